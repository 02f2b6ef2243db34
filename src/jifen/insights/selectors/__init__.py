"""Reads of the insights app, one module per part (``leaderboard``, ...)."""
