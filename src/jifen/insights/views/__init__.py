"""Console pages of the insights app, one module per part."""
