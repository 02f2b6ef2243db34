"""Objects the two page walks (tests/web/test_english_pages.py and
tests/browser/test_accessibility.py) open the integrations' pages with."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

# A closed local port: nothing is ever delivered, nothing leaves the machine.
NOWHERE = "http://127.0.0.1:9"


def integrations_pages(actor: Any) -> dict[str, list[Any]]:
    """An IM robot, a webhook endpoint with one delivery; URL arguments by URL name."""
    from jifen.integrations.im import services as im
    from jifen.integrations.webhooks import services as webhooks

    with override_settings(JIFEN_OUTBOUND_ALLOW_HOSTS=["127.0.0.1"]):
        robot = im.create_robot(platform="dingtalk", name="Company group",
                                webhook_url=f"{NOWHERE}/robot/send?access_token=x",
                                secret="SEC-walk", actor=actor)
        endpoint, _secret = webhooks.create_endpoint(
            url=f"{NOWHERE}/jifen", event_types=["employee.created"], description="Payroll",
            actor=actor)
        delivery = webhooks.send_test_event(endpoint=endpoint, actor=actor)
    return {
        "console:im_robot": [robot.pk],
        "console:im_app": ["wecom"],
        "console:webhook": [endpoint.pk],
        "console:webhook_delivery": [delivery.pk],
        "console:payroll_period": ["2026-10"],
    }
