"""Library models: the resources part."""
