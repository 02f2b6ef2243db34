"""Points activities: lotteries with provably fair draws, and auctions (DESIGN.md §5)."""
