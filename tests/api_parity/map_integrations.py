"""Console actions of the integrations app (IM, webhooks, API keys) and their API twins."""

TWINS: dict[str, list[str]] = {
    "im": ["POST /im/robots"],
    "im_app": ["PUT /im/apps/{platform}"],
    "im_robot": ["PATCH /im/robots/{robot_id}"],
    "im_robot_delete": ["DELETE /im/robots/{robot_id}"],
    "im_robot_test": ["POST /im/robots/{robot_id}/test"],
    "im_route_add": ["POST /im/routes"],
    "im_route_delete": ["DELETE /im/routes/{route_id}"],
    "webhooks": ["POST /webhooks"],
    "webhook": ["PATCH /webhooks/{pk}"],
    # The action is a path segment: rotate, test, enable/disable, delete.
    "webhook_action": ["POST /webhooks/{pk}/rotate-secret", "POST /webhooks/{pk}/test",
                       "PATCH /webhooks/{pk}", "DELETE /webhooks/{pk}"],
    "webhook_delivery": ["POST /webhook-deliveries/{pk}/redeliver"],
    "api_keys": ["POST /api-keys"],
    "api_key_revoke": ["POST /api-keys/{key_id}/revoke"],
    # Console → Suppliers: one page, the field `action` picks the step (an empty POST is
    # answered with a message and a redirect, which the probe counts as "suppliers").
    "suppliers": ["POST /suppliers"],
    "suppliers?action=create": ["POST /suppliers"],
    "suppliers?action=update": ["PATCH /suppliers/{pk}"],
    "suppliers?action=link": ["PUT /suppliers/{pk}/items/{item_id}"],
    "suppliers?action=unlink": ["DELETE /suppliers/{pk}/items/{item_id}"],
    "suppliers?action=retry": ["POST /supplier-requests/{pk}/retry"],
}

NO_API: dict[str, str] = {}
