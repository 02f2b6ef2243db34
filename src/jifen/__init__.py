"""jifen — employee points and rewards platform."""

__version__ = "0.1.0"
