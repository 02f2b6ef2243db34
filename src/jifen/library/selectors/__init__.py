"""Library reads: resources and engagement."""
