"""Every action the console offers has an API route with the same service behind it.

The test walks every console page a super admin can open (the objects the page walks use:
the fixture of ``tests/web/test_english_pages.py``, which builds them with
``tests/walk_objects.py``), reads every ``<form method="post">`` with the standard
library's HTML parser and names each action it finds with a KEY:

- ``"<url_name>"``: the form's target (its ``action``, or the page itself when empty; a
  submit button's ``formaction`` / an ``hx-post`` wins) is a console URL that does one
  thing, e.g. ``"mall_categories"``;
- ``"<url_name>?<field>=<value>"``: the form, or the submit button pressed, carries a field
  from ``ACTION_FIELDS`` that picks what the target does, e.g. ``"mall_order?action=approve"``
  (a hidden input, or a submit button's name and value).

Targets outside the console keep their full URL name (``"portal:…"``, ``"set_language"``).
Then every console URL is sent an empty POST: one that does not answer 405 and was seen in
no form (its form only shows in another state) is a key too, ``"<url_name>"``.

The keys found are written to ``/tmp/parity/actions.txt`` (``<key>\\t<page url name>``), the
checklist of the helpers who write the maps. Each app's ``map_<app>.py`` next to this file
holds ``TWINS`` (key → API routes as in the OpenAPI paths without ``/api/v1``, e.g.
``"PATCH /categories/{category_id}"``) and ``NO_API`` (key → why it has no twin). The test
fails on a key that is in no map and on a mapped route the OpenAPI schema does not have.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve, reverse

from tests.web.test_english_pages import NOT_WALKED, _args, _names, company  # noqa: F401

pytestmark = pytest.mark.django_db

# Field names whose value picks what one target URL does (hidden inputs or submit buttons).
ACTION_FIELDS = frozenset({"action", "op", "operation", "decision", "do", "intent", "step"})
OUT = Path(os.environ.get("JIFEN_PARITY_OUT", "/tmp/parity/actions.txt"))
HERE = Path(__file__).parent
# What changes from one request to the next: CSRF tokens, CSP nonces.
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|"X-CSRFToken": "[^"]*"'
                  r'|nonce="[^"]*"')
SUBMITS = {("button", None), ("button", "submit"), ("input", "submit"), ("input", "image")}


@dataclass
class Form:
    action: str | None
    hidden: dict[str, str] = field(default_factory=dict)
    # (name, value, formaction) of each submit button.
    buttons: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)


class _Forms(HTMLParser):
    """The POST forms of a page; buttons outside a form that name one with ``form=``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.current: Form | None = None
        self.orphans: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            post = method == "post" or "hx-post" in attrs
            form = Form(action=attrs.get("hx-post") or attrs.get("action")) if post else None
            self.current = form
            if form is not None:
                self.forms.append(form)
                if attrs.get("id"):
                    self.by_id[attrs["id"] or ""] = form
            return
        if tag not in ("input", "button"):
            return
        owner = attrs.get("form")
        if owner:
            self.orphans.append((tag, attrs))
            return
        if self.current is not None:
            _add_field(self.current, tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None

    def close(self) -> None:
        super().close()
        for tag, attrs in self.orphans:
            if (form := self.by_id.get(attrs.get("form") or "")) is not None:
                _add_field(form, tag, attrs)


def _add_field(form: Form, tag: str, attrs: dict[str, str | None]) -> None:
    kind = (attrs.get("type") or "").lower() or None
    if tag == "input" and kind == "hidden" and attrs.get("name"):
        form.hidden[attrs["name"] or ""] = attrs.get("value") or ""
    elif (tag, kind) in SUBMITS:
        form.buttons.append((attrs.get("name"), attrs.get("value"),
                             attrs.get("hx-post") or attrs.get("formaction")))


def _url_name(url: str, page: str) -> str | None:
    """The URL name a form posts to (``None`` for another site)."""
    target = urlsplit(urljoin(page, url))
    if target.netloc and target.netloc not in ("testserver", ""):
        return None
    try:
        match = resolve(target.path)
    except Resolver404:
        return f"unresolved:{target.path}"
    name = match.view_name
    return name.removeprefix("console:")


def keys_of(html: str, page_url: str) -> set[str]:
    """The action keys of one page's POST forms."""
    parser = _Forms()
    parser.feed(html)
    parser.close()
    found: set[str] = set()
    for form in parser.forms:
        base = form.action or page_url
        picked = {(k, v) for k, v in form.hidden.items() if k in ACTION_FIELDS}
        presses = [(n, v, fa) for n, v, fa in form.buttons] or [(None, None, None)]
        for name, value, formaction in presses:
            target = _url_name(formaction or base, page_url)
            if target is None:
                continue
            fields = set(picked)
            if name in ACTION_FIELDS:
                fields = {(k, v) for k, v in fields if k != name} | {(name, value or "")}
            if fields:
                found.update(f"{target}?{k}={v}" for k, v in sorted(fields))
            else:
                found.add(target)
    return found


def _pages(full: str, url: str, company: Any) -> list[str]:  # noqa: F811
    """The URLs to read for one console page: an order's page in each of its states."""
    if full == "console:mall_order":
        return [reverse(full, args=[order.pk]) for order in company.orders.values()]
    return [url]


def _dummy_args(pattern: Any) -> list[Any]:
    """Arguments of the right kind for a URL whose objects the walk does not know: a
    URL that takes only POST answers 405 before it looks anything up."""
    return [1 if type(c).__name__ == "IntConverter" else "x"
            for c in pattern.pattern.converters.values()]


def _body(response: Any) -> str:
    raw = (b"".join(response.streaming_content) if response.streaming
           else response.content)
    return CSRF.sub("", raw.decode(errors="replace"))


def _same_page(get: Any, post: Any) -> bool:
    """A view that answers an empty POST as it answers GET does not take posts. A download
    is compared by its kind only: a spreadsheet's bytes carry the second it was written."""
    if get.status_code != post.status_code:
        return False
    kind = get.get("Content-Type", "")
    if "html" not in kind:
        return kind == post.get("Content-Type", "")
    return _body(get) == _body(post)


def _answers_posts(client: Client, url: str) -> int | None:
    """The status of an empty POST to ``url`` when the URL takes posts, else None. Asked
    twice before saying yes: a page that shows times or ages (the console dashboard) was
    seen to differ now and then between a POST and the GET right after it."""
    status = None
    for _attempt in range(2):
        post = client.post(url, {})
        if post.status_code == 405 or _same_page(client.get(url), post):
            return None
        status = post.status_code
    return status


def discover(company: Any) -> dict[str, str]:  # noqa: F811
    """Every action key of the console → the console page it was first found on."""
    client = Client(raise_request_exception=False)
    client.force_login(company.admin.user)
    client.cookies["django_language"] = "en"
    found: dict[str, str] = {}
    urls: dict[str, str] = {}
    for full, pattern in _names():
        if not full.startswith("console:"):
            continue
        args = _args(full, pattern, company)
        urls[full] = reverse(full, args=_dummy_args(pattern) if args is None else args)
        if args is None or full in NOT_WALKED:
            continue
        page = full.removeprefix("console:")
        for url in _pages(full, urls[full], company):
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for key in sorted(keys_of(response.content.decode(), url)):
                found.setdefault(key, page)
    # POST-only URLs and forms that show only in another state: an empty POST that is
    # not refused with 405 (and not answered as a GET is) means the URL takes posts. Run
    # after every GET: it may change things (an empty POST to a "close" URL may close).
    seen = {key.split("?", 1)[0] for key in found}
    for full, url in urls.items():
        name = full.removeprefix("console:")
        if name in seen:
            continue
        status = _answers_posts(client, url)
        if status is not None:
            found[name] = f"{name} (POST probe: {status})"
    return found


def load_maps(folder: Path = HERE) -> tuple[dict[str, list[str]], dict[str, str], list[str]]:
    """TWINS and NO_API of every map_*.py (GAPS count as known, for the first test); keys
    mapped twice."""
    twins: dict[str, list[str]] = {}
    no_api: dict[str, str] = {}
    twice: list[str] = []
    for path in sorted(folder.glob("map_*.py")):
        module = importlib.import_module(f"tests.api_parity.{path.stem}")
        for key, routes in getattr(module, "TWINS", {}).items():
            if key in twins or key in no_api:
                twice.append(f"{key} ({path.name})")
            twins[key] = list(routes)
        for name in ("NO_API", "GAPS"):
            for key, why in getattr(module, name, {}).items():
                if key in twins or key in no_api:
                    twice.append(f"{key} ({path.name})")
                no_api[key] = why
    return twins, no_api, twice


def known_gaps(folder: Path = HERE) -> dict[str, str]:
    """GAPS of every map_*.py: console actions whose API twin is still to be built."""
    gaps: dict[str, str] = {}
    for path in sorted(folder.glob("map_*.py")):
        module = importlib.import_module(f"tests.api_parity.{path.stem}")
        gaps.update(getattr(module, "GAPS", {}))
    return gaps


def missing_routes(twins: dict[str, list[str]], paths: dict[str, Any]) -> list[str]:
    """``key: METHOD /path`` for each mapped route the OpenAPI paths do not have."""
    missing = []
    for key, routes in sorted(twins.items()):
        for route in routes:
            method, _, path = route.partition(" ")
            operations = paths.get("/api/v1" + path.strip()) or {}
            if method.lower() not in operations:
                missing.append(f"{key}: {route}")
    return missing


def write_actions(found: dict[str, str], out: Path = OUT) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{key}\t{page}\n" for key, page in sorted(found.items())))


def _listing(title: str, lines: Iterable[str]) -> str:
    lines = list(lines)
    return f"{title} ({len(lines)}):\n" + "\n".join(f"  {line}" for line in lines)


def test_every_console_action_has_an_api_twin(company):  # noqa: F811
    from jifen.api import api

    found = discover(company)
    write_actions(found)
    print(f"{len(found)} console actions written to {OUT}")
    assert len(found) >= 20, found  # the walk did find the console's forms
    twins, no_api, twice = load_maps()
    unmapped = [f"{key}\t(on {page})" for key, page in sorted(found.items())
                if key not in twins and key not in no_api]
    not_in_schema = missing_routes(twins, api.get_openapi_schema()["paths"])
    problems = []
    if unmapped:
        problems.append(_listing("console actions in no map_*.py (TWINS or NO_API)",
                                 unmapped))
    if not_in_schema:
        problems.append(_listing("mapped routes missing from the OpenAPI schema",
                                 not_in_schema))
    if twice:
        problems.append(_listing("keys mapped in more than one place", twice))
    assert not problems, "\n\n".join(problems)


def test_no_console_action_waits_for_its_api_twin():
    # A map may list a console action whose twin is still to be built under GAPS (so the
    # walk above passes while the work is under way); this fails until it is built.
    gaps = known_gaps()
    assert not gaps, _listing("console actions without an API twin yet",
                              (f"{key}: {why}" for key, why in sorted(gaps.items())))
