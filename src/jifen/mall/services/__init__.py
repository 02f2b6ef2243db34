"""Mall writers — the only code that changes the mall's state, each function one
transaction that raises ``jifen.core.errors`` exceptions:

- ``catalogue``: categories, items, their status, stock, pictures and code pools;
- ``promotions``: redemption windows and discount campaigns;
- ``shopper``: an employee's favourites and shipping addresses;
- ``orders``: placing an order (the redemption hot path) and switching one;
- ``fulfilment``: every step after placement, by the order state machine;
- ``stock``: stock and purchase counts as orders take and return them (internal).

Callers use the names re-exported here: ``from jifen.mall import services;
services.create_order(...)``.
"""

from jifen.mall.services.catalogue import (
    ITEM_FIELDS,
    THUMBNAIL_SIZE,
    add_item_image,
    create_item,
    delete_category,
    import_codes,
    remove_item_image,
    restock,
    save_category,
    set_item_status,
    update_item,
)
from jifen.mall.services.fulfilment import (
    approve_order,
    bulk_approve,
    cancel_order,
    complete_order,
    deliver_order,
    fulfil_order,
    move_order,
    perform,
    reject_order,
    ship_order,
)
from jifen.mall.services.orders import (
    MAX_QUANTITY,
    check_can_order,
    create_order,
    switch_order_item,
)
from jifen.mall.services.prizes import place_prize_order, set_order_address
from jifen.mall.services.promotions import save_campaign, save_window
from jifen.mall.services.shopper import (
    add_address,
    make_default_address,
    prune_item_views,
    record_item_view,
    remove_address,
    toggle_favourite,
    update_address,
)

__all__ = [
    "ITEM_FIELDS",
    "MAX_QUANTITY",
    "THUMBNAIL_SIZE",
    "add_address",
    "add_item_image",
    "approve_order",
    "bulk_approve",
    "cancel_order",
    "check_can_order",
    "complete_order",
    "create_item",
    "create_order",
    "delete_category",
    "deliver_order",
    "fulfil_order",
    "import_codes",
    "make_default_address",
    "move_order",
    "perform",
    "place_prize_order",
    "prune_item_views",
    "record_item_view",
    "reject_order",
    "remove_address",
    "remove_item_image",
    "restock",
    "save_campaign",
    "save_category",
    "save_window",
    "set_item_status",
    "set_order_address",
    "ship_order",
    "switch_order_item",
    "toggle_favourite",
    "update_address",
    "update_item",
]
