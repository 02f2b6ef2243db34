"""The library and engagement: paid downloads, daily check-in, comments, ratings and shares
that earn (DESIGN.md §5)."""
