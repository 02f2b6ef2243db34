"""A first visit on a slow phone: /login/ with an empty cache, served as production serves
it (static files collected by the production storage: fingerprinted, pre-compressed, served
by WhiteNoise with far-future caching)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUDGET = 400 * 1024  # issue #12: ≤ 400 KB compressed on a cold load
ONE_YEAR = 365 * 24 * 60 * 60
PRODUCTION_STORAGE = "jifen.core.staticfiles.StaticFilesStorage"


def _no_static_handler(application):
    return application


@pytest.fixture(scope="module")
def production_server(tmp_path_factory, collected_static, django_db_setup):
    """A live server of its own whose STATIC_ROOT the production storage collected (the
    suite's shared one skips the compression to stay fast), served by WhiteNoise. For the
    module: a request thread that outlives a stopped server trips over the shared SQLite
    connection."""
    from django.conf import settings
    from pytest_django.live_server_helper import LiveServer

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("production-static"),
                           STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
        server = LiveServer("localhost", start=False)
        server.thread.static_handler = _no_static_handler  # WhiteNoise serves, as in production
        server.start()
        yield server
        server.stop()


def cold_load(browser, url: str) -> list[dict]:
    """Load ``url`` in a fresh context (no cache, no cookies) and list every response with
    the bytes it took on the wire (headers + encoded body)."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN",
                                  extra_http_headers={"Accept-Encoding": "gzip, deflate, br"})
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(url, wait_until="networkidle")
    rows = []
    for request in finished:
        response = request.response()
        sizes = request.sizes()
        rows.append({
            "url": request.url,
            "bytes": sizes["responseHeadersSize"] + sizes["responseBodySize"],
            "status": response.status,
            "headers": response.all_headers(),
        })
    context.close()
    return rows


def test_the_sign_in_page_loads_in_under_400_kb_cold(browser, production_server):
    rows = cold_load(browser, production_server.url + "/login/")
    total = sum(row["bytes"] for row in rows)
    report = "\n".join(f"{row['bytes']:>8} {row['status']} {row['url']}" for row in rows)
    print(f"\n/login/ cold load: {total} bytes in {len(rows)} responses\n{report}")

    assert all(row["status"] == 200 for row in rows), report
    statics = [row for row in rows if "/static/" in row["url"]]
    kinds = {row["url"].rsplit(".", 1)[-1] for row in statics}
    # The page is styled and scripted, and the icon font arrived (else the measure is empty).
    assert {"css", "js", "woff2"} <= kinds, report
    # The icon font is preloaded (base.html) under the very name the CSS asks for: once.
    assert sum(row["url"].endswith(".woff2") for row in rows) == 1, report
    assert total <= BUDGET, f"/login/ took {total} bytes (budget {BUDGET}):\n{report}"


def test_static_files_are_compressed_and_cached_for_a_year(browser, production_server):
    rows = cold_load(browser, production_server.url + "/login/")
    statics = [row for row in rows if "/static/" in row["url"]]
    assert statics
    for row in statics:
        cache = row["headers"].get("cache-control", "")
        max_age = int(cache.split("max-age=")[1].split(",")[0]) if "max-age=" in cache else 0
        assert max_age >= ONE_YEAR and "immutable" in cache, (row["url"], cache)
    # Text assets travel brotli-compressed; the woff2 font is compressed already.
    for row in statics:
        if row["url"].endswith((".css", ".js")):
            assert row["headers"].get("content-encoding") == "br", row["url"]
