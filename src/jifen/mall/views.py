"""Mall pages: the shop for employees (portal) and the order desk, catalogue, windows,
campaigns and code pools for mall admins (console). Thin: parse, check permission, call a
service or selector, render."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors, suggestions
from jifen.core.exports import spreadsheet_response
from jifen.core.pagination import keyset_page_for
from jifen.core.permissions import htmx_partial, require_capability
from jifen.core.redirects import next_path, redirect_to_next
from jifen.core.roles import Cap
from jifen.ledger import selectors as ledger_selectors
from jifen.mall import selectors, services
from jifen.mall.forms import (
    AddressForm,
    CampaignForm,
    CancelForm,
    CatalogueFilterForm,
    CategoryForm,
    DeskFilterForm,
    ImageForm,
    ItemForm,
    RejectForm,
    RestockForm,
    ShipForm,
    WindowForm,
)
from jifen.mall.models import (
    Fulfilment,
    Item,
    ItemStatus,
    Order,
    OrderStatus,
)
from jifen.notifications.ages import waited_words

PAGE_SIZE = 24
DESK_PAGE_SIZE = 50
CARRIERS = ("顺丰速运", "京东物流", "中通快递", "圆通速递", "韵达快递", "EMS", "申通快递")
MAX_ID = 2**63 - 1  # the largest primary key any of the databases can hold

M = TypeVar("M")


def _id(value: Any) -> int | None:
    """An id sent in a form field or query string, or None when it is missing or is not a
    positive whole number written in ASCII digits ("abc", "1.5", "-1", "²", "١" are not)."""
    text = value.strip() if isinstance(value, str) else ""
    # Longer than any id (Python also refuses int() of over 4,300 digits).
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _found(obj: M | None) -> M:
    """What a selector found; 404 when it found nothing."""
    if obj is None:
        raise Http404
    return obj


def _employee(request: HttpRequest) -> Any:
    return getattr(request.user, "employee", None)


def _spendable(employee: Any) -> int | None:
    if employee is None:
        return None
    return ledger_selectors.balance(employee=employee).spendable


def _cards(items: list[Item]) -> list[dict[str, Any]]:
    prices = selectors.prices_for(items)
    return [{"item": i, "price": prices[i.pk]} for i in items]


def _suggested_cards(found: list[Any], *, why: bool = True) -> list[dict[str, Any]]:
    """Cards for a row of recommendations (``jifen.core.suggestions``): the usual card and
    the line that says why (left out where the row's title already says it), with the
    points still missing when it is "affordable soon"."""
    return [{"item": s.thing, "price": s.price, "why": s.why.text if why else "",
             "short_by": s.short_by} for s in found]


# --- portal: browsing ----------------------------------------------------------------------


@login_required
def mall_home(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    spendable = _spendable(employee)
    categories = [c for c in selectors.category_tree() if c.parent_id is None]
    return render(request, "mall/home.html", {
        "spendable": spendable,
        "suggested": _suggested_cards(suggestions.suggestions(
            suggestions.MALL_HOME, employee=employee, spendable=spendable)),
        "window": selectors.window_state(selectors.window_for(None)),
        "hot": _cards(selectors.hot_items()),
        "new": _cards(selectors.new_items()),
        "affordable": _cards(selectors.affordable_items(spendable)) if spendable else [],
        "categories": categories,
        "filter_form": CatalogueFilterForm(),
    })


@login_required
def item_list(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    form = CatalogueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    category = selectors.category_by_id(data.get("category"))
    filters = selectors.ItemFilters(
        q=data.get("q", ""), category=category, min_points=data.get("min_points"),
        max_points=data.get("max_points"),
        affordable_for=_spendable(employee) if data.get("affordable") else None,
        in_stock=bool(data.get("in_stock")), sort=data.get("sort") or "popular",
    )
    page = Paginator(selectors.listed_items(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "cards": _cards(list(page.object_list)),
               "category": category, "q": filters.q}
    template = "mall/_item_grid.html" if htmx_partial(request) else "mall/list.html"
    return render(request, template, context)


@login_required
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _found(selectors.item_for_page(pk))
    employee = _employee(request)
    if item.status != ItemStatus.LISTED and not selectors.has_open_order(employee, item):
        raise Http404
    price = selectors.price_of(item)
    problem = selectors.eligibility_problem(item, employee) if employee else _(
        "Only employees can redeem.")
    bought = selectors.bought_in_period(item, employee) if employee and \
        item.per_employee_limit else 0
    spendable = _spendable(employee)
    if request.method == "GET" and employee is not None and item.status == ItemStatus.LISTED:
        services.record_item_view(employee=employee, item=item)
    return render(request, "mall/item.html", {
        "item": item, "price": price, "window": selectors.item_window_state(item),
        "problem": problem, "bought": bought,
        "limit_left": item.per_employee_limit - bought if item.per_employee_limit else None,
        "spendable": spendable,
        "short_by": max(0, price.points - spendable) if spendable is not None else None,
        "is_favourite": item.pk in selectors.favourite_item_ids(employee),
        "addresses": selectors.addresses_of(employee) if employee else [],
        "needs_address": item.fulfilment == Fulfilment.SHIPPED,
        "in_stock": item.stock is None or item.stock > 0,
        "also": _suggested_cards(suggestions.suggestions(
            suggestions.MALL_ITEM, employee=employee, item=item), why=False),
        # One token per rendering of the page: a double-tapped Confirm makes one order.
        "token": uuid.uuid4().hex,
    })


@login_required
@require_POST
def redeem(request: HttpRequest, pk: int) -> HttpResponse:
    item = _found(selectors.item_by_id(pk))
    employee = _employee(request)
    if employee is None:
        messages.error(request, _("Only employees can redeem."))
        return redirect("portal:mall_item", pk=pk)
    # A quantity that is not a whole number is refused here, one out of range by the
    # service; neither is ever quietly replaced by another quantity (−3 used to become 1).
    try:
        quantity = int((request.POST.get("quantity") or "").strip() or 1)
    except ValueError:
        messages.error(request, _("Order between 1 and %s at a time.") % services.MAX_QUANTITY)
        return redirect("portal:mall_item", pk=pk)
    address = None
    if request.POST.get("address"):
        address = selectors.address_of(employee, _id(request.POST["address"]))
        if address is None:  # never ship to another address than the one chosen
            messages.error(request, _("That is not one of your saved addresses; choose one "
                                      "of them or add it first."))
            return redirect("portal:mall_item", pk=pk)
    try:
        order = services.create_order(
            employee=employee, item=item, quantity=quantity, address=address,
            idempotency_key=f"web:{employee.pk}:{request.POST.get('token', '')}"
            if request.POST.get("token") else "",
            actor=request.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
        return redirect("portal:mall_item", pk=pk)
    messages.success(request, _("Redeemed! Your order %(number)s is %(status)s.")
                     % {"number": order.number, "status": order.get_status_display()})
    return redirect("portal:order_detail", pk=order.pk)


@login_required
@require_POST
def favourite(request: HttpRequest, pk: int) -> HttpResponse:
    item = _found(selectors.item_by_id(pk))
    employee = _employee(request)
    if employee is None:
        raise Http404
    on = services.toggle_favourite(employee=employee, item=item)
    if htmx_partial(request):
        return render(request, "mall/_favourite_button.html", {"item": item, "is_favourite": on})
    return redirect_to_next(request, reverse("portal:mall_item", args=[pk]))


@login_required
def favourite_list(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    items = selectors.favourites(employee) if employee else []
    return render(request, "mall/favourites.html", {"cards": _cards(items)})


@login_required
@require_http_methods(["GET", "POST"])
def addresses(request: HttpRequest) -> HttpResponse:
    employee = _employee(request)
    if employee is None:
        raise Http404
    if request.method == "POST" and request.POST.get("action") in ("remove", "default"):
        address_id = _id(request.POST.get("address"))
        if address_id is None:
            raise Http404
        try:
            if request.POST["action"] == "remove":
                services.remove_address(employee=employee, address_id=address_id)
            else:
                services.make_default_address(employee=employee, address_id=address_id)
        except errors.NotFound as exc:
            raise Http404 from exc
        return redirect("portal:mall_addresses")
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_address(employee=employee, **form.cleaned_data)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Address saved."))
            return redirect_to_next(request, reverse("portal:mall_addresses"))
    return render(request, "mall/addresses.html", {
        "form": form, "addresses": selectors.addresses_of(employee),
        "next": next_path(request),
    })


# --- portal: orders -------------------------------------------------------------------


@login_required
def my_orders(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    orders = selectors.orders_of(_employee(request), status=status)
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    return render(request, "mall/orders.html", {"page": page, "status": status,
                                                "statuses": OrderStatus.choices})


def _visible_order(request: HttpRequest, pk: int, *, timeline: bool = True) -> Order:
    """The signed-in employee's own order; another's is a 404, like one that does not
    exist (mall admins see every order on the order desk)."""
    try:
        return selectors.order_visible_to(request.user, pk, scope=None, timeline=timeline)
    except errors.NotFound as exc:
        raise Http404 from exc


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = _visible_order(request, pk)
    code = getattr(order, "code", None) if order.fulfilment == Fulfilment.CODE else None
    delisted = order.item.status == ItemStatus.DELISTED and order.is_open
    alternatives = []
    if delisted:
        alternatives = _cards(list(selectors.listed_items(selectors.ItemFilters(
            category=order.item.category, in_stock=True, sort="popular"))[:6]))
    return render(request, "mall/order.html", {
        "order": order, "events": list(order.events.all()),
        "progress": selectors.order_progress(order), "code": code, "delisted": delisted,
        "alternatives": alternatives,
        "can_cancel": selectors.action_allowed(order, "cancel"),
        "can_complete": selectors.action_allowed(order, "complete"),
        "addresses": (list(selectors.addresses_of(order.employee))
                      if order.needs_address else []),
    })


@login_required
@require_POST
def order_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    order = _visible_order(request, pk, timeline=False)
    if action not in ("cancel", "complete", "switch", "address"):
        raise Http404
    try:
        if action == "cancel":
            services.cancel_order(order=order, actor=request.user)
            messages.success(request, _("Order cancelled; your points are back."))
        elif action == "complete":
            services.complete_order(order=order, actor=request.user)
            messages.success(request, _("Thanks for confirming."))
        elif action == "address":
            address = selectors.address_of(order.employee, _id(request.POST.get("address")))
            if address is None:
                raise Http404
            services.set_order_address(order=order, address=address, actor=request.user)
            messages.success(request, _("Thanks: your order will be sent there."))
        else:
            new_item = _found(selectors.item_by_id(_id(request.POST.get("item"))))
            new = services.switch_order_item(order=order, new_item=new_item,
                                             actor=request.user)
            messages.success(request, _("Switched to %s.") % new_item.name)
            return redirect("portal:order_detail", pk=new.pk)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    return redirect("portal:order_detail", pk=pk)


# --- console: order desk --------------------------------------------------------------


def _desk_orders(request: HttpRequest, params: Any = None) -> tuple[DeskFilterForm, Any]:
    form = DeskFilterForm(params if params is not None else request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    orders = selectors.order_desk(status=data.get("status", ""), q=data.get("q", ""),
                                  fulfilment=data.get("fulfilment", ""),
                                  supplier_failed=bool(data.get("supplier_failed")))
    return form, orders


@require_capability(Cap.MANAGE_MALL)
def order_desk(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = OrderStatus.SUBMITTED  # the queue: what waits for a decision
    form, orders = _desk_orders(request, params)
    page = keyset_page_for(request, orders, order=("pk",), limit=DESK_PAGE_SIZE)
    context = {"form": form, "page": page, "counts": selectors.status_counts(),
               "waiting": _desk_waiting(),
               "statuses": OrderStatus.choices, "current": params["status"],
               "query": params.urlencode()}
    template = "mall/console/_desk_table.html" if htmx_partial(request) else \
        "mall/console/desk.html"
    return render(request, template, context)


def _desk_waiting() -> dict[str, Any]:
    waiting = selectors.waiting_orders()
    return {"count": waiting["count"], "age": waited_words(waiting["oldest"]),
            "supplier_failed": selectors.supplier_failed_count()}


@require_capability(Cap.MANAGE_MALL)
@require_POST
def order_bulk(request: HttpRequest) -> HttpResponse:
    ids = [pk for pk in map(_id, request.POST.getlist("orders")) if pk is not None]
    orders = selectors.orders_by_ids(ids)
    if not orders:
        messages.warning(request, _("Tick the orders first."))
    else:
        done, problems = services.bulk_approve(orders=orders, actor=request.user)
        if done:
            messages.success(request, _("%(n)s orders approved.") % {"n": done})
        for problem in problems[:10]:
            messages.error(request, problem)
    return redirect_to_next(request, reverse("console:mall"))


@require_capability(Cap.MANAGE_MALL)
def order_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _form, orders = _desk_orders(request)
    header = [_("Order number"), _("Status"), _("Employee number"), _("Employee"),
              _("Department"), _("Item"), _("Quantity"), _("Points"), _("Fulfilment"),
              _("Recipient"), _("Phone"), _("Address"), _("Carrier"), _("Tracking number"),
              _("Created")]
    rows = []
    for o in orders.iterator(chunk_size=500):
        address = o.address or {}
        rows.append([o.number, o.get_status_display(), o.employee.employee_no, o.employee.name,
                     o.employee.department.name, o.item_name, o.quantity, o.points,
                     o.get_fulfilment_display(), address.get("recipient", ""),
                     address.get("phone", ""),
                     f"{address.get('region', '')}{address.get('address', '')}", o.carrier,
                     o.tracking_no, timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M")])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheet_response(fmt=fmt, filename=f"mall-orders-{stamp}", header=header,
                                rows=rows, sheet_title="orders")


@require_capability(Cap.MANAGE_MALL)
@require_http_methods(["GET", "POST"])
def desk_order(request: HttpRequest, pk: int) -> HttpResponse:
    order = _found(selectors.desk_order(pk))
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    cancel_form = CancelForm(request.POST if request.POST.get("action") == "cancel" else None)
    ship_form = ShipForm(request.POST if request.POST.get("action") == "ship" else None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        data: dict[str, Any] = {}
        valid = True
        if action == "reject":
            valid = reject_form.is_valid()
            data = reject_form.cleaned_data if valid else {}
        elif action == "ship":
            valid = ship_form.is_valid()
            data = ship_form.cleaned_data if valid else {}
        elif action == "cancel":
            valid = cancel_form.is_valid()
            data = cancel_form.cleaned_data if valid else {}
        elif action == "fulfil":
            data = {"note": request.POST.get("note", "")}
        if valid:
            try:
                services.perform(order=order, action=action, actor=request.user, **data)
            except errors.JifenError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Order %s updated.") % order.number)
                return redirect_to_next(request, reverse("console:mall_order", args=[pk]))
    order.refresh_from_db()
    return render(request, "mall/console/order.html", {
        "order": order, "events": list(order.events.all()),
        "actions": selectors.allowed_actions(order), "reject_form": reject_form,
        "cancel_form": cancel_form, "ship_form": ship_form, "carriers": CARRIERS,
        "code": getattr(order, "code", None) if order.fulfilment == Fulfilment.CODE else None,
    })


# --- console: catalogue ---------------------------------------------------------------


@require_capability(Cap.MANAGE_MALL)
def desk_items(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    status = request.GET.get("status", "")
    items = selectors.desk_items(q=q, status=status)
    page = Paginator(items, DESK_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mall/console/items.html", {
        "page": page, "q": q, "status": status, "statuses": ItemStatus.choices})


@require_capability(Cap.MANAGE_MALL)
@require_http_methods(["GET", "POST"])
def desk_item_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    item = _found(selectors.item_by_id(pk)) if pk else None
    action = request.POST.get("action", "save")
    form = ItemForm(request.POST if action == "save" and request.method == "POST" else None,
                    instance=item)
    restock_form = RestockForm(request.POST if action == "restock" else None)
    if request.method == "POST":
        try:
            if action == "restock" and item is not None and restock_form.is_valid():
                services.restock(item=item, quantity=restock_form.cleaned_data["quantity"],
                                 actor=request.user)
                messages.success(request, _("Stock added."))
                return redirect("console:mall_item_edit", pk=item.pk)
            if action in ItemStatus.values and item is not None:
                services.set_item_status(item=item, status=action, actor=request.user)
                messages.success(request, _("Status changed."))
                return redirect("console:mall_item_edit", pk=item.pk)
            if action == "save" and form.is_valid():
                fields = form.service_fields()
                if item is None:
                    item = services.create_item(actor=request.user, **fields)
                    messages.success(request, _("Item created. Add pictures below."))
                else:
                    services.update_item(item=item, actor=request.user, **fields)
                    messages.success(request, _("Item saved."))
                return redirect("console:mall_item_edit", pk=item.pk)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
    context: dict[str, Any] = {"item": item, "form": form, "restock_form": restock_form,
                               "image_form": ImageForm(), "statuses": ItemStatus.choices}
    if item is not None:
        context["open_orders"] = selectors.open_orders_for_item(item).count()
        context["remaining_codes"] = (selectors.remaining_codes(item)
                                      if item.fulfilment == Fulfilment.CODE else None)
        context["images"] = list(item.images.all())
    return render(request, "mall/console/item_form.html", context)


@require_capability(Cap.MANAGE_MALL)
@require_POST
def desk_item_images(request: HttpRequest, pk: int) -> HttpResponse:
    item = _found(selectors.item_by_id(pk))
    if request.POST.get("remove"):
        image = _found(selectors.item_image(item, _id(request.POST["remove"])))
        services.remove_item_image(image=image, actor=request.user)
        messages.success(request, _("Picture removed."))
    else:
        form = ImageForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.add_item_image(item=item, upload=form.cleaned_data["image"],
                                        actor=request.user)
                messages.success(request, _("Picture added."))
            except errors.JifenError as exc:
                messages.error(request, exc.message)
        elif "image" in request.FILES:
            for error in form.errors["image"]:
                messages.error(request, error)
        else:
            messages.error(request, _("Choose a picture file."))
    return redirect("console:mall_item_edit", pk=pk)


@require_capability(Cap.MANAGE_MALL)
@require_http_methods(["GET", "POST"])
def desk_categories(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    category = _found(selectors.category_by_id(pk)) if pk else None
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_category(actor=request.user, category=category,
                                   **{k: v for k, v in form.cleaned_data.items()})
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Category saved."))
            return redirect("console:mall_categories")
    return render(request, "mall/console/categories.html", {
        "form": form, "category": category, "tree": selectors.category_tree()})


@require_capability(Cap.MANAGE_MALL)
@require_POST
def desk_category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete an empty category (the API's ``DELETE /categories/{id}``); one still holding
    items or sub-categories stays, with the reason on its page."""
    category = _found(selectors.category_by_id(pk))
    try:
        services.delete_category(actor=request.user, category=category)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
        return redirect("console:mall_category_edit", pk=pk)
    messages.success(request, _("Category %(name)s deleted.") % {"name": category.name})
    return redirect("console:mall_categories")


@require_capability(Cap.MANAGE_MALL)
@require_http_methods(["GET", "POST"])
def desk_windows(request: HttpRequest) -> HttpResponse:
    window = None
    if request.GET.get("edit"):
        window = _found(selectors.window_by_id(_id(request.GET["edit"])))
    initial = {}
    if window is not None and window.mode == "periods":
        initial["periods"] = "\n".join(
            f"{timezone.localtime(p.starts_at):%Y-%m-%d %H:%M} ~ "
            f"{timezone.localtime(p.ends_at):%Y-%m-%d %H:%M}" for p in window.periods.all())
    form = WindowForm(request.POST or None, instance=window, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_window(actor=request.user, window=window, name=data["name"],
                                 mode=data["mode"], day_from=data.get("day_from"),
                                 day_to=data.get("day_to"), is_default=data["is_default"],
                                 periods=data["periods"])
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Window saved."))
            return redirect("console:mall_windows")
    return render(request, "mall/console/windows.html", {
        "form": form, "window": window, "windows": selectors.windows_with_state()})


@require_capability(Cap.MANAGE_MALL)
@require_http_methods(["GET", "POST"])
def desk_campaigns(request: HttpRequest) -> HttpResponse:
    campaign = None
    if request.GET.get("edit"):
        campaign = _found(selectors.campaign_by_id(_id(request.GET["edit"])))
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_campaign(actor=request.user, campaign=campaign, name=data["name"],
                                   kind=data["kind"], value=data["value"],
                                   starts_at=data["starts_at"], ends_at=data["ends_at"],
                                   items=list(data["items"]),
                                   categories=list(data["categories"]),
                                   is_active=data["is_active"])
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("console:mall_campaigns")
    return render(request, "mall/console/campaigns.html", {
        "form": form, "campaign": campaign, "campaigns": selectors.campaigns(),
        "now": timezone.now()})


@require_capability(Cap.MANAGE_MALL)
def desk_codes(request: HttpRequest) -> HttpResponse:
    return render(request, "mall/console/codes.html", {"pools": selectors.code_pool_counts()})
