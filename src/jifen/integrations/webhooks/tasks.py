"""Worker steps for webhooks: send one endpoint's due deliveries; the minute sweep."""

from __future__ import annotations

from django_tasks import task

from jifen.integrations.webhooks import services


@task()
def deliver_endpoint_task(endpoint_id: int) -> int:
    return services.deliver_due(endpoint_id=endpoint_id)


@task()
def sweep_webhooks_task() -> int:
    return services.sweep()
