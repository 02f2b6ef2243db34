"""The insights API, one module per part; the project's ``jifen.api`` mounts each router."""
