"""Reads for the insights pages and API, one module per part."""
