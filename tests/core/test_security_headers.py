"""Security headers on every answer, pages without inline code, and a 413 page for a body
too large (issue 10, finding 10 and item 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from jifen.core.models import ImportJob
from jifen.ledger.models import Transaction
from tests.conftest import login_client

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "jifen"
MB = 1024 * 1024


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("path", ["/login/", "/", "/no-such-page/", "/api/v1/health",
                                  "/api/v1/me", "/api/v1/docs"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src-elem"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_one_style_element_carries_the_nonce_of_its_answer(client):
    first, second = client.get("/login/"), client.get("/login/")
    nonces = []
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])[1]
        assert f'<style nonce="{nonce}">' in response.content.decode()
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # fresh for each answer


def test_the_api_docs_load_swagger_from_our_own_static_files(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in page and "https://" not in page
    scripts = re.findall(r"<script\b([^>]*)>", page)
    # Only script files and one JSON data block, which browsers never run.
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)


# --- the templates themselves ----------------------------------------------------------

TEMPLATES = sorted(p for p in SRC.rglob("templates/**/*.html"))
INLINE_CODE = [
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on…= event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)", re.I),
     "an inline <script>"),
    (re.compile(r"<style\b(?![^>]*\bnonce=)", re.I), "a <style> element without the nonce"),
    (re.compile(r"\bhx-on\b|hx-vals=[\"']\s*js:|\bhx-vars\b", re.I), "htmx code in an attribute"),
    # Alpine's CSP build evaluates names and simple paths only: components are registered
    # in app.js (Alpine.data) and a template names them.
    (re.compile(r"\bx-(?:data|init|effect|text|show|bind:[\w-]+|on:[\w.-]+|model)=\"[^\"]*[^\w.\"\s]"),
     "an Alpine expression (register a component in app.js instead)"),
    (re.compile(r"(?<![\w-])[@:][\w.-]+=\"[^\"]*[^\w.\"\s]"),
     "an Alpine expression (register a component in app.js instead)"),
]


def test_templates_are_found():
    assert len(TEMPLATES) > 50
    assert SRC / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_template_carries_inline_code(template):
    """The CSP refuses inline code and eval in the browser; this says where, before a
    browser test would."""
    text = template.read_text()
    for pattern, what in INLINE_CODE:
        match = pattern.search(text)
        assert match is None, (
            f"{template.relative_to(SRC)} line {text[:match.start()].count(chr(10)) + 1} "
            f"carries {what}: {text[match.start():match.start() + 80]!r}. Use a data- "
            "attribute handled in static/jifen/app.js (data-confirm, data-autosubmit, …).")


# --- a body too large for a page ------------------------------------------------------


def test_a_25_mb_form_gets_a_413_page_and_posts_nothing(hr_admin, employee):
    client = login_client(hr_admin.user)
    body = (f"employee={employee.employee_no}&amount=10&reason=bonus&key=k1&confirm=1"
            "&padding=" + "x" * (25 * MB)).encode()
    response = client.generic("POST", "/console/ledger/adjust/", body,
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "413" in page and "20 MB" in page
    assert "Content-Security-Policy" in response.headers
    assert not Transaction.objects.exists()


def test_a_25_mb_upload_gets_a_413_page_and_starts_no_import(hr_admin):
    client = login_client(hr_admin.user)
    boundary = "jifenboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += b"a" * (25 * MB) + f"\r\n--{boundary}--\r\n".encode()
    response = client.generic("POST", "/console/people/import/", body,
                              content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "21 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_sign_in_page_refuses_a_25_mb_body_before_reading_it():
    response = Client().generic("POST", "/login/", b"username=a&password=" + b"x" * (25 * MB),
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert not Session.objects.exists()


def test_a_form_within_the_limit_is_answered_as_before():
    response = Client().post("/login/", {"username": "nobody", "password": "wrong",
                                         "padding": "x" * MB})
    # The sign-in form again, with its error.
    assert response.status_code != 413 and 'name="username"' in response.content.decode()


# Linked by its fingerprinted name outside DEBUG (error.1a2b3c4d5e6f.css).
ERROR_CSS = re.compile(r"/static/jifen/error\.(?:[0-9a-f]{12}\.)?css")


def test_an_expired_form_page_works_without_inline_code():
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "a"})
    assert response.status_code == 403
    page = response.content.decode()
    assert ERROR_CSS.search(page) and "data-back" in page and "javascript:" not in page
    assert directives(response)["script-src"] == ["'self'"]


def test_the_server_error_page_needs_no_inline_style():
    from django.template import loader

    page = loader.get_template("500.html").render()
    assert ERROR_CSS.search(page) and "<style" not in page
