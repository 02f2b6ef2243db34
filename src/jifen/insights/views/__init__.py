"""Insights pages, one module per part, each with its own URL list."""
