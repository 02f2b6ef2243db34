"""Worker steps for supplier fulfilment: one call, and the minute sweep of due ones."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from jifen.integrations.models import DeliveryStatus, SupplierRequest
from jifen.integrations.suppliers import services


@task()
def call_supplier_task(request_id: int) -> str:
    return services.call_supplier(request_id=request_id)


@task()
def sweep_suppliers_task() -> int:
    due = SupplierRequest.objects.filter(status=DeliveryStatus.PENDING,
                                         next_attempt_at__lte=timezone.now())
    return sum(services.call_supplier(request_id=pk) == DeliveryStatus.SUCCEEDED
               for pk in due.values_list("pk", flat=True))
