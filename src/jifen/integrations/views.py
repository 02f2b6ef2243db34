"""API key pages of the console: list, create (the plain key is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.integrations import selectors, services
from jifen.integrations.forms import SCOPE_HELP, ApiKeyForm


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = plain = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, plain = services.create_api_key(
                name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                rate_limit=form.cleaned_data["rate_limit"], actor=request.user,
            )
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            # Rendered, not redirected: the plain key exists only in this response.
            form = ApiKeyForm()
    keys = list(selectors.api_keys())
    for key in keys:  # each scope with what it allows, in words, beside its code
        key.scope_words = [(scope, SCOPE_HELP.get(scope, "")) for scope in key.scopes]
    response = render(request, "console/api_keys.html", {
        "form": form, "keys": keys, "new_key": new_key, "plain_key": plain,
    })
    if plain:
        response["Cache-Control"] = "no-store"
    return response


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(selectors.api_keys(), pk=pk)
    services.revoke_api_key(key=key, actor=request.user)
    messages.success(request, _("The key %(name)s is revoked; requests with it now fail.")
                     % {"name": key.name})
    return redirect("console:api_keys")
