"""Reads of the library: ``resources`` (the resource library) and ``engagement``."""
