"""The console's suppliers page: register a supplier (its signing secret shown once),
rename, move or pause it, hand items to it, and retry the calls that failed — the same
services as /api/v1/suppliers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from jifen.core import errors
from jifen.core.forms import StyledForm
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.integrations.models import DeliveryStatus
from jifen.integrations.suppliers import selectors, services


class SupplierForm(StyledForm, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    url = forms.URLField(label=gettext_lazy("Fulfilment URL"), max_length=500,
                         assume_scheme="https",
                         help_text=gettext_lazy("The supplier's API that answers with a code "
                                                "or a tracking number."))


def _row_id(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 18 else None


def _act(request: HttpRequest) -> str:
    """Run the posted action; a message for the page."""
    action = request.POST.get("action", "")
    supplier = selectors.suppliers().filter(pk=_row_id(request.POST.get("supplier"))).first()
    if action == "retry":
        found = selectors.request_by_id(_row_id(request.POST.get("request")) or 0)
        if found is None:
            raise errors.NotFound(_("No supplier call with this id."))
        services.retry_request(request=found, actor=request.user)
        return _("The supplier is called again.")
    if supplier is None:
        raise errors.NotFound(_("This supplier no longer exists."))
    if action == "update":
        services.update_supplier(supplier=supplier, actor=request.user,
                                 name=request.POST.get("name", ""),
                                 url=request.POST.get("url", ""),
                                 is_active=request.POST.get("is_active") == "on")
        return _("Saved.")
    if action == "link":
        item = selectors.items().filter(pk=_row_id(request.POST.get("item"))).first()
        if item is None:
            raise errors.ValidationError(_("Choose an item."))
        services.link_item(supplier=supplier, item_id=item.pk, actor=request.user)
        return _("Approved orders of %(item)s now go to %(supplier)s.") % {
            "item": item.name, "supplier": supplier.name}
    if action == "unlink":
        services.unlink_item(item_id=_row_id(request.POST.get("item")) or 0, actor=request.user)
        return _("Orders of that item are handled on the order desk again.")
    raise errors.ValidationError(_("Unknown action."))


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def suppliers_page(request: HttpRequest) -> HttpResponse:
    form = SupplierForm(request.POST if request.POST.get("action") == "create" else None)
    new = plain = None
    if request.method == "POST":
        if request.POST.get("action") == "create":
            if form.is_valid():
                try:
                    new, plain = services.create_supplier(actor=request.user,
                                                          **form.cleaned_data)
                except errors.JifenError as exc:
                    form.add_error("url", exc.message)
                else:
                    form = SupplierForm()
        else:
            try:
                messages.success(request, _act(request))
            except errors.JifenError as exc:
                messages.error(request, exc.message)
            return redirect("console:suppliers")
    rows = [{"supplier": s, "items": list(selectors.linked_items(s))}
            for s in selectors.suppliers()]
    linkable = selectors.linkable_items()[:500]
    response = render(request, "integrations/suppliers.html", {
        "form": form, "rows": rows, "linkable": linkable, "new_supplier": new,
        "plain_secret": plain,
        "failed": list(selectors.requests(status=DeliveryStatus.FAILED)
                       .select_related("supplier")[:100]),
    })
    if plain:
        response["Cache-Control"] = "no-store"  # the secret exists only in this response
    return response
