"""Reads of the insights app (rollups, dashboards, rankings), one module per part."""
