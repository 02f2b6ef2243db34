from __future__ import annotations

import email
import email.policy
import fcntl
import os
import secrets
import socket
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from jifen.core.roles import Role
from tests.factories import PASSWORD, DepartmentFactory, EmployeeFactory

# Names this run's test databases (test_jifen_<run>_gw0 …): made once, in the xdist
# controller or a run without workers, and inherited by the workers through the environment.
RUN_ID_VARIABLE = "JIFEN_TEST_RUN_ID"


def pytest_configure(config):
    """Tests create many accounts; the production password hash (PBKDF2, ~1M rounds) costs
    a large share of the suite's time and is not what any test checks."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not hasattr(config, "workerinput"):  # the controller: before it starts any worker
        os.environ.setdefault(RUN_ID_VARIABLE, f"{os.getpid()}{secrets.token_hex(2)}")


# Test modules whose behaviour does not depend on the database: they run on SQLite only;
# every other test runs on SQLite, PostgreSQL and MariaDB (docs/decisions/0035-which-tests-
# run-on-every-database.md). A module belongs here only if what it checks is rendering,
# headers, words, settings or pure logic: never the ledger, locking, concurrency, raw SQL,
# migrations, imports, search, JSON fields, idempotency or backups. A new module is not
# listed, so it runs everywhere until someone decides otherwise; a listed path that no
# longer exists stops the run.
DATABASE_AGNOSTIC = (
    # Pages rendered from data the service tests already store on every database.
    "activities/test_auction_views.py",
    "activities/test_centre_views.py",
    "activities/test_lottery_views.py",
    "earning/test_views.py",
    "integrations/im/test_views.py",
    "integrations/test_views.py",
    "integrations/webhooks/test_views.py",
    "ledger/test_history_views.py",
    "library/test_engagement_views.py",
    "mall/test_layout.py",
    "mall/test_redeem_dialog.py",
    "notifications/test_settings_views.py",
    "notifications/test_views.py",
    "web/test_english_pages.py",
    "web/test_views.py",
    # Headers, proxies, settings, static files, themes: the request cycle, not the data.
    "core/test_client_address.py",
    "core/test_https_setting.py",
    "core/test_security_headers.py",
    "core/test_serve.py",
    "core/test_theme_colours.py",
    "web/test_static_assets.py",
    "web/test_static_collect.py",
    # Words and translations shown to people.
    "core/test_audit_words.py",
    "core/test_audit_words_keys.py",
    "core/test_locale.py",
    "earning/test_outcome_words.py",
    "earning/test_readable.py",
    "mall/test_category_icons.py",
    "mall/test_order_words.py",
)

TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Mark the tests of DATABASE_AGNOSTIC modules ``database_agnostic``; the PostgreSQL
    and MariaDB passes of scripts/run_tests.py deselect them."""
    missing = [path for path in DATABASE_AGNOSTIC if not (TESTS / path).is_file()]
    if missing:
        raise pytest.UsageError("DATABASE_AGNOSTIC lists modules that do not exist: "
                                + ", ".join(missing))
    agnostic = {TESTS / path for path in DATABASE_AGNOSTIC}
    for item in items:
        if Path(item.fspath) not in agnostic:
            continue
        if item.get_closest_marker("concurrency"):
            raise pytest.UsageError(f"{item.nodeid} is a concurrency test in a module "
                                    "listed as DATABASE_AGNOSTIC")
        item.add_marker(pytest.mark.database_agnostic)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """Test databases named for this run as well as for the xdist worker, so that two runs
    on one machine (two `make test`, a developer's and CI's) never create, flush or drop
    each other's databases. SQLite's are in memory and need no name; ``--reuse-db`` keeps
    the fixed names, as reusing means finding them again."""
    from django.conf import settings

    run_id = os.environ.get(RUN_ID_VARIABLE)
    if not run_id or request.config.getoption("reuse_db", False):
        return
    for db in settings.DATABASES.values():
        if db["ENGINE"] == "django.db.backends.sqlite3":
            continue
        test = db.setdefault("TEST", {})
        # test_<name>[_gwN] from pytest-django → test_<name>_r<run>[_gwN]
        base = f"test_{db['NAME']}"
        name = test.get("NAME") or base
        worker = name[len(base):] if name.startswith(base) else ""
        test["NAME"] = f"{base}_r{run_id}{worker}"


def assert_ledger_sound() -> None:
    """`jifen ledger verify` must be clean."""
    from jifen.ledger.verify import verify_ledger

    breaches = verify_ledger()
    assert not breaches, "ledger invariants broken:\n" + "\n".join(breaches)


def _database_fixture(request) -> str | None:
    """"db" or "transactional_db" for a test that uses the database, else None."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        return None
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    return "transactional_db" if transactional else "db"


@pytest.fixture(autouse=True)
def _ledger_stays_sound(request):
    """After every test that used the database and moved points, the ledger must verify
    clean. A test that breaks the books on purpose asks for ``allow_ledger_breaches``."""
    fixture = _database_fixture(request)
    if fixture is None:
        yield
        return
    # Requested from here so the database outlives this check at teardown.
    request.getfixturevalue(fixture)
    yield
    names = set(request.fixturenames)
    if "allow_ledger_breaches" in names:
        return
    from jifen.ledger.models import Transaction

    if Transaction.objects.exists():
        assert_ledger_sound()


@pytest.fixture(autouse=True)
def _migrated_data(request):
    """What the migrations put in every installation's database — the built-in event types
    and the company accounts: a transactional test flushes every table when it ends, and
    which test follows one on an xdist worker changes as the suite grows."""
    fixture = _database_fixture(request)
    if fixture is not None:
        request.getfixturevalue(fixture)
        from jifen.earning.models import EventType
        from jifen.earning.services import ensure_builtin_event_types
        from jifen.ledger.services import ensure_company_accounts

        if not EventType.objects.filter(builtin=True).exists():  # flushed: all of it went
            ensure_builtin_event_types()
            ensure_company_accounts()


@pytest.fixture
def allow_ledger_breaches():
    """Opt out of the after-test ledger check (for tests of the checker itself)."""
    return True


@pytest.fixture
def many_connections(tmp_path_factory):
    """For tests that open dozens of database connections at once (the flash sale, the
    ledger's races): one such test at a time across the xdist workers, so that together
    they stay under PostgreSQL's default limit of 100 connections."""
    lock = tmp_path_factory.getbasetemp().parent / "many-connections.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Site settings and throttles live in the caches; no test may see another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The shared cache (failed sign-ins) may be a database table, which survives the
    flush between transactional tests: empty it once the test's database is reachable."""
    if (item.get_closest_marker("django_db")
            or {"db", "transactional_db", "live_server"} & set(item.fixturenames)):
        from django.core.cache import caches

        caches["shared"].clear()
    yield


def run_temp_dir(tmp_path_factory) -> Path:
    """A temporary folder of this run that every xdist worker shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


# The manifest storage without the compression: 0.3 s rather than 5 (the first-load test,
# tests/browser/test_first_load.py, collects with the production storage itself).
TEST_STATIC_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Pages link fingerprinted static names, as in production (settings.STORAGES), read
    from a manifest that collectstatic writes once per run into a temporary STATIC_ROOT.
    A template that names a missing static file fails its test rather than a live page."""
    from django.conf import settings
    from django.core.management import call_command

    root = run_temp_dir(tmp_path_factory) / "static"
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": TEST_STATIC_STORAGE}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        root.mkdir(exist_ok=True)
        with open(root.parent / "static.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one worker collects, the others wait for it
            if not (root / "staticfiles.json").exists():
                try:
                    call_command("collectstatic", interactive=False, verbosity=0)
                except ValueError as exc:  # a CSS file names one that is not there
                    raise RuntimeError(f"collectstatic failed; `make assets` rebuilds "
                                       f"src/jifen/static/vendor: {exc}") from exc
            fcntl.flock(lock, fcntl.LOCK_UN)
        yield root


def _no_static_handler(application):
    return application


@pytest.fixture(scope="session")
def live_server(request, collected_static):
    """pytest-django's live server, whose static files come as in production: from
    WhiteNoise in the application, out of the collected STATIC_ROOT (Django's test handler
    would look the fingerprinted names up in the source folders and answer 404)."""
    from pytest_django.live_server_helper import LiveServer

    addr = (request.config.getvalue("liveserver")
            or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
    server = LiveServer(addr, start=False)
    server.thread.static_handler = _no_static_handler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _private_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("private")


@pytest.fixture(autouse=True)
def _private_files(_private_root, monkeypatch):
    """Uploaded spreadsheets and library files (the demo's too) go to a temporary folder,
    not the checkout's var/private."""
    from django.core.files.storage import FileSystemStorage

    from jifen.core.models import ImportJob
    from jifen.library.models import Resource, ResourcePreview

    private = FileSystemStorage(location=_private_root)
    for model, name in ((ImportJob, "file"), (Resource, "file"), (Resource, "cover"),
                        (ResourcePreview, "image")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", private)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def department(db):
    return DepartmentFactory(code="HQ", name="总部")


@pytest.fixture
def employee(db, department):
    return EmployeeFactory(department=department, name="张伟")


def login_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def make_role_employee(db, department):
    """An employee with an extra role: make_role_employee(Role.HR_ADMIN)."""

    def make(role: str, **kwargs):
        return EmployeeFactory(department=kwargs.pop("department", department),
                               roles=[role], **kwargs)

    return make


@pytest.fixture
def hr_admin(make_role_employee):
    return make_role_employee(Role.HR_ADMIN, name="人事管理员")


@pytest.fixture
def super_admin(make_role_employee):
    return make_role_employee(Role.SUPER_ADMIN, name="超级管理员")


# --- browser tests (Playwright for Python driving Debian's Chromium) ---------------------

CHROMIUM = Path(os.environ.get("JIFEN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup-system.sh")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would then refuse ORM
    # calls from the test body as "async-unsafe" although they are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


# Every page reports what its Content-Security-Policy refused, however it was provoked.
CSP_VIOLATION = "CSP violation:"
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.effectiveDirective + " refused " +
                event.blockedURI + " in " + (event.sourceFile || "the page") +
                ":" + event.lineNumber + " " + (event.sample || ""));
});
"""


@pytest.fixture
def csp_violations():
    """What the Content-Security-Policy refused on the pages of this test (open_page listens
    on each). Any left at the end fail the test: a page of ours never needs inline code or
    eval. A test that provokes a violation on purpose asks for this list and empties it."""
    found: list[str] = []
    yield found
    if found:
        pytest.fail("The page broke its Content-Security-Policy:\n" + "\n".join(found))


@pytest.fixture
def open_page(browser, live_server, csp_violations):
    """open_page(viewport) → a fresh page (own cookies) whose relative URLs hit the live
    server. A CSP violation on any of its pages fails the test (``csp_violations``)."""
    contexts = []

    def listen(page) -> None:
        page.on("console", lambda message: message.text.startswith(CSP_VIOLATION)
                and csp_violations.append(f"{page.url}: {message.text}"))

    def open_(viewport: dict):
        context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                      locale="zh-CN")
        context.set_default_timeout(15_000)
        context.add_init_script(_REPORT_CSP_VIOLATIONS)
        context.on("page", listen)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        for page in context.pages:
            if not page.is_closed():
                page.evaluate("0")  # a round trip: every console message before it has arrived
        context.close()


# --- mail: a real SMTP server (aiosmtpd) on 127.0.0.1 -----------------------------------


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    """A real SMTP server for the test; Django sends to it and tasks run at once. Yields
    the inbox: ``smtp.messages`` are the parsed e-mails received."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, TASKS=IMMEDIATE_TASKS,
                           JIFEN_BASE_URL="https://points.example.com"):
        yield inbox
    controller.stop()


