"""Insights web pages, one module per part; each part has its own urls module."""
