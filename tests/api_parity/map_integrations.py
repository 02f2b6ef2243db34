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
}

NO_API: dict[str, str] = {}

# Console actions whose API twin is still to be built (see map_core.GAPS).
GAPS: dict[str, str] = {
    # With "a key may not create a key with more scopes than itself".
    "api_keys": "API keys are created in the console only, for now",
    "api_key_revoke": "API keys are revoked in the console only, for now",
}
