"""Library models: the engagement part."""
