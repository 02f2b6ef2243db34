"""The insights API, one module per part, each with its own router mounted by
``jifen.api``."""
