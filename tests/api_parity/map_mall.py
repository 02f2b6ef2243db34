"""The mall's console actions and their API twins (issue #16 part 4). Keys as found by
tests/api_parity/test_console_parity.py; routes as in /api/v1/openapi.json."""

from __future__ import annotations

TWINS: dict[str, list[str]] = {
    "mall_categories": ["POST /categories"],
    "mall_category_edit": ["PATCH /categories/{category_id}"],
    "mall_category_delete": ["DELETE /categories/{category_id}"],
    "mall_windows": ["POST /redemption-windows", "PUT /redemption-windows/{window_id}"],
    "mall_campaigns": ["POST /campaigns", "PUT /campaigns/{campaign_id}"],
    "mall_item_new?action=save": ["POST /items"],
    "mall_item_edit?action=save": ["PATCH /items/{item_id}"],
    "mall_item_edit?action=restock": ["POST /items/{item_id}/restock"],
    "mall_item_edit?action=listed": ["POST /items/{item_id}/status"],
    "mall_item_edit?action=delisted": ["POST /items/{item_id}/status"],
    "mall_item_edit?action=draft": ["POST /items/{item_id}/status"],
    "mall_item_images": ["POST /items/{item_id}/images",
                         "DELETE /items/{item_id}/images/{image_id}"],
    # The spreadsheet wizards are the same import jobs through /imports (kinds mall.codes
    # and mall.tracking); one item's codes may also be sent as a list.
    "mall_code_import:start": ["POST /imports/jobs", "POST /items/{item_id}/codes"],
    "mall_code_import:commit": ["POST /imports/jobs/{job_id}/commit"],
    "mall_code_import:cancel": ["POST /imports/jobs/{job_id}/cancel"],
    "mall_tracking:start": ["POST /imports/jobs"],
    "mall_tracking:commit": ["POST /imports/jobs/{job_id}/commit"],
    "mall_tracking:cancel": ["POST /imports/jobs/{job_id}/cancel"],
    "mall_order_bulk": ["POST /order-desk/approve"],
    "mall_order?action=approve": ["POST /orders/{order_id}/approve"],
    "mall_order?action=reject": ["POST /orders/{order_id}/reject"],
    "mall_order?action=ship": ["POST /orders/{order_id}/ship"],
    "mall_order?action=deliver": ["POST /orders/{order_id}/deliver"],
    "mall_order?action=fulfil": ["POST /orders/{order_id}/fulfil"],
    "mall_order?action=complete": ["POST /orders/{order_id}/complete"],
    "mall_order?action=cancel": ["POST /orders/{order_id}/desk-cancel"],
}

# Pages found only by the harness's empty-POST probe (views without a method guard that
# render the same list for a POST; none has a form that posts).
NO_API: dict[str, str] = {
    "mall": "no action: the order desk's list answers a POST as a GET (GET /orders/{id} "
            "and the order steps are the API's desk)",
    "mall_items": "no action: the item list answers a POST as a GET (GET /items)",
    "mall_codes": "no action: the code pool counts answer a POST as a GET",
}
