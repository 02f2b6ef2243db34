"""API routers of the insights app, one module per part (mounted in jifen.api)."""
