"""Supplier writers: suppliers and their items, the call request written when an order of
a supplier item is approved, and the worker's call (``call_supplier``).

The request row is written in the approval's transaction (an outbox, as for webhooks), so
an approved order is never forgotten. The call is signed like a webhook (Standard Webhooks
headers) and expects ``{"code": …}`` (the order is fulfilled, the code in its note) or
``{"tracking_no": …, "carrier": …}`` (shipped). Failures are retried with backoff; after the
last try the order stays approved on the order desk — its points captured, nothing lost —
and the request keeps the supplier's last answer for the desk to read."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import requests
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.integrations import outbound
from jifen.integrations.models import DeliveryStatus, Supplier, SupplierItem, SupplierRequest
from jifen.integrations.webhooks import signing
from jifen.integrations.webhooks.services import new_message_id
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, Order, OrderStatus
from jifen.mall.services.fulfilment import record_event

RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
                timedelta(hours=2), timedelta(hours=6)]
TIMEOUT = (5, 20)
CLAIM_SECONDS = 120  # longer than a call can take (TIMEOUT)
ANSWER_KEEP = 2000


@transaction.atomic
def create_supplier(*, name: str, url: str, actor: Actor) -> tuple[Supplier, str]:
    """A supplier with its signing secret, returned only now."""
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError(_("Give the supplier a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    outbound.check_url(url)
    plain = signing.new_secret()
    supplier = Supplier.objects.create(name=name[:100], url=url, secret=signing.seal(plain))
    record_audit(actor=actor, action="supplier.create", obj=supplier,
                 after={"name": supplier.name, "url": url})
    return supplier, plain


@transaction.atomic
def link_item(*, supplier: Supplier, item_id: int, actor: Actor) -> SupplierItem:
    """From now on, approved orders of this item are fulfilled by ``supplier``."""
    link, _created = SupplierItem.objects.update_or_create(item_id=item_id,
                                                           defaults={"supplier": supplier})
    record_audit(actor=actor, action="supplier.link_item", obj=supplier,
                 after={"item_id": item_id})
    return link


@transaction.atomic
def update_supplier(*, supplier: Supplier, actor: Actor, name: str | None = None,
                    url: str | None = None, is_active: bool | None = None) -> Supplier:
    """Rename, move or pause a supplier. A paused supplier gets no new orders (approved
    orders of its items wait on the order desk); calls already queued still go out."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    before = {"name": supplier.name, "url": supplier.url, "is_active": supplier.is_active}
    if name is not None:
        name = name.strip()
        if not name:
            raise errors.ValidationError(_("Give the supplier a name."),
                                         code=errors.ErrorCode.NAME_REQUIRED)
        supplier.name = name[:100]
    if url is not None:
        outbound.check_url(url)
        supplier.url = url
    if is_active is not None:
        supplier.is_active = is_active
    after = {"name": supplier.name, "url": supplier.url, "is_active": supplier.is_active}
    if after != before:
        supplier.save(update_fields=["name", "url", "is_active"])
        record_audit(actor=actor, action="supplier.update", obj=supplier, before=before,
                     after=after)
    return supplier


@transaction.atomic
def unlink_item(*, item_id: int, actor: Actor) -> bool:
    """Approved orders of this item go back to the order desk's hands. False when it was
    not linked."""
    link = SupplierItem.objects.select_related("supplier").filter(item_id=item_id).first()
    if link is None:
        return False
    link.delete()
    record_audit(actor=actor, action="supplier.unlink_item", obj=link.supplier,
                 before={"item_id": item_id})
    return True


@transaction.atomic
def retry_request(*, request: SupplierRequest, actor: Actor,
                  now: datetime | None = None) -> SupplierRequest:
    """Call the supplier again for a failed request (the retries start over), as long as
    its order still waits for it. 409 otherwise."""
    now = now or timezone.now()
    order = Order.objects.get(pk=request.order_id)
    if order.status != OrderStatus.APPROVED:
        raise errors.Conflict(_("The order is no longer waiting for its supplier."),
                              code=errors.ErrorCode.CONFLICT)
    if not SupplierRequest.objects.filter(pk=request.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, finished_at=None):
        raise errors.Conflict(_("Only a failed supplier call can be retried."),
                              code=errors.ErrorCode.CONFLICT)
    record_audit(actor=actor, action="supplier.retry", obj=request.supplier,
                 after={"order_id": order.pk})
    # On the timeline, so the order desk no longer lists it as given up.
    record_event(order, action="supplier_retry", from_status=order.status,
                 to_status=order.status, actor=actor, note=_("Supplier called again."))
    from jifen.integrations.suppliers.tasks import call_supplier_task

    transaction.on_commit(lambda: call_supplier_task.enqueue(request.pk))
    request.refresh_from_db()
    return request


def order_approved(order: Order, at: datetime) -> None:
    """Inside the approval's transaction: queue the supplier call for a supplier item."""
    link = SupplierItem.objects.filter(item_id=order.item_id,
                                       supplier__is_active=True).first()
    if link is None:
        return
    request = SupplierRequest.objects.create(
        order=order, supplier_id=link.supplier_id, message_id=new_message_id(),
        next_attempt_at=at, created_at=at)
    # The task module imports this one: imported when an approval commits.
    from jifen.integrations.suppliers.tasks import call_supplier_task

    transaction.on_commit(lambda: call_supplier_task.enqueue(request.pk))


def _body(order: Order, request: SupplierRequest) -> dict[str, Any]:
    return {"type": "order.fulfil", "timestamp": timezone.now().isoformat(),
            "data": {"order_id": order.pk, "number": order.number, "item_id": order.item_id,
                     "item_name": order.item_name, "quantity": order.quantity,
                     "employee_no": order.employee.employee_no,
                     "address": order.address, "request_id": request.message_id}}


def _answer(response: requests.Response) -> dict[str, Any] | None:
    try:
        found = response.json()
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def call_supplier(*, request_id: int, now: datetime | None = None) -> str:
    """Call the supplier for one request if due; returns the request's status after."""
    now = now or timezone.now()
    request = SupplierRequest.objects.select_related("supplier").get(pk=request_id)
    if request.status != DeliveryStatus.PENDING or request.next_attempt_at > now:
        return request.status
    # Claimed before the call: the task queued with the approval and the minute's sweep
    # (or two workers) may reach a due request together, and only one of them may ask the
    # supplier to ship. The claim lapses after CLAIM_SECONDS, so a worker that died during
    # the call leaves the request to be called again, not stuck.
    if not SupplierRequest.objects.filter(
            pk=request.pk, status=DeliveryStatus.PENDING,
            next_attempt_at=request.next_attempt_at).update(
            next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS)):
        return DeliveryStatus.PENDING
    order = Order.objects.select_related("employee").get(pk=request.order_id)
    if order.status != OrderStatus.APPROVED:  # handled by hand meanwhile
        SupplierRequest.objects.filter(pk=request.pk).update(
            status=DeliveryStatus.FAILED, finished_at=now,
            last_answer=_("The order was no longer waiting (%s).") % order.status)
        return DeliveryStatus.FAILED
    body = signing.body_of(_body(order, request))
    headers = {"content-type": "application/json",
               **signing.headers_for(message_id=request.message_id, body=body,
                                     secrets_=[signing.unseal(request.supplier.secret)],
                                     at=timezone.now())}
    answer_text, result = "", None
    try:
        outbound.check_url(request.supplier.url)
        response = requests.post(request.supplier.url, data=body.encode(), headers=headers,
                                 timeout=TIMEOUT, allow_redirects=False)
        answer_text = f"HTTP {response.status_code} {response.text[:ANSWER_KEEP]}"
        if 200 <= response.status_code < 300:
            result = _answer(response)
    except (requests.RequestException, errors.ValidationError) as exc:
        answer_text = f"{type(exc).__name__}: {exc}"[:ANSWER_KEEP]
    if result is not None and _apply(order, request, result, answer_text, now):
        return DeliveryStatus.SUCCEEDED
    return _failed(request, answer_text, now)


def _apply(order: Order, request: SupplierRequest, result: dict[str, Any], answer: str,
           now: datetime) -> bool:
    code = str(result.get("code") or "").strip()
    tracking = str(result.get("tracking_no") or "").strip()
    carrier = str(result.get("carrier") or "").strip()
    try:
        with transaction.atomic():
            if tracking and carrier and order.fulfilment == Fulfilment.SHIPPED:
                mall.ship_order(order=order, actor=None, carrier=carrier[:60],
                                tracking_no=tracking[:60])
            elif code:
                mall.fulfil_order(order=order, actor=None,
                                  note=_("Code: %(code)s") % {"code": code[:200]})
            else:
                return False
            SupplierRequest.objects.filter(pk=request.pk).update(
                status=DeliveryStatus.SUCCEEDED, attempts=request.attempts + 1,
                last_answer=answer, finished_at=now)
    except errors.JifenError:
        return False
    return True


def _failed(request: SupplierRequest, answer: str, now: datetime) -> str:
    number = request.attempts + 1
    update: dict[str, Any] = {"attempts": number, "last_answer": answer}
    if number > len(RETRY_DELAYS):
        # The order stays approved on the order desk with the supplier's answer on its
        # timeline; its points stay captured until an admin fulfils or refunds it.
        update.update(status=DeliveryStatus.FAILED, finished_at=now)
        with transaction.atomic():
            if SupplierRequest.objects.filter(pk=request.pk, status=DeliveryStatus.PENDING
                                              ).update(**update):
                order = Order.objects.get(pk=request.order_id)
                record_event(order, action="supplier_failed", from_status=order.status,
                             to_status=order.status, actor=None,
                             note=_("Supplier failed: %(answer)s") % {"answer": answer[:250]})
        return DeliveryStatus.FAILED
    else:
        base = RETRY_DELAYS[number - 1]
        update["next_attempt_at"] = now + base * (1 + random.uniform(-0.2, 0.2))
    SupplierRequest.objects.filter(pk=request.pk, status=DeliveryStatus.PENDING).update(**update)
    return str(update.get("status", DeliveryStatus.PENDING))

