"""What the mall announces, so apps above it (integrations' webhooks) react without the mall
importing them. Sent inside the change's transaction: a receiver's writes commit or roll
back with it."""

from django.dispatch import Signal

# order: Order (its status already the new one), action: str ("submit", "approve", …),
# from_status: str ("" for a new order), to_status: str, at: datetime — one step recorded
# on an order's timeline (``mall.services.fulfilment.record_event``).
order_changed = Signal()
