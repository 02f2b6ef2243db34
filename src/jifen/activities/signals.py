"""What activities announce, so apps above them (integrations' webhooks) react without
activities importing them. Sent inside the change's transaction."""

from django.dispatch import Signal

# lottery: Lottery (finished), winners: list[(employee_id, tier name)], at: datetime.
lottery_drawn = Signal()
# auction: Auction, outcome: str (won, no_bids, reserve_not_met), winner_id: int | None,
# amount: int | None (units), order_id: int | None, at: datetime.
auction_closed = Signal()
