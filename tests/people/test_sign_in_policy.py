"""One sign-in policy for every route that takes a password: the portal, the API token and
django-admin count against the same attempts, per account and per client address, and a
refused attempt never has its password checked."""

from __future__ import annotations

import importlib
import json
import threading

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import clear_url_caches, reverse

from jifen.core import throttle
from jifen.people.models import User
from tests.factories import PASSWORD, EmployeeFactory

pytestmark = pytest.mark.django_db

ADMIN_PASSWORD = "Root-Passw0rd-2026!"


def _token(client: Client, username: str, password: str, **extra):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password},
                       content_type="application/json", **extra)


def _portal(client: Client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _admin(client: Client, username: str, password: str, **extra):
    return client.post("/django-admin/login/", {"username": username, "password": password,
                                                "next": "/django-admin/"}, **extra)


# --- django-admin ---------------------------------------------------------------------------


@pytest.fixture
def root(db) -> User:
    """The account `jifen createadmin` makes: a super admin with is_staff."""
    call_command("createadmin", "--username", "root", "--password", ADMIN_PASSWORD)
    user = User.objects.get(username="root")
    assert user.is_staff
    return user


def test_django_admin_guessing_is_throttled_and_the_right_password_refused_while_locked(root):
    """30 wrong guesses at /django-admin/login/ were all answered 200, then the right one
    signed in and the session opened the console's settings and API keys."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    statuses = [_admin(client, "root", f"guess-{n}").status_code for n in range(30)]
    limit = settings.LOGIN_THROTTLE_LIMIT
    assert statuses == [200] * limit + [429] * (30 - limit)
    assert throttle.failures(account=root.pk) == limit  # no password checked after the 5th

    response = _admin(client, "root", ADMIN_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    for page in (reverse("console:settings"), reverse("console:api_keys"), "/django-admin/"):
        assert client.get(page).status_code == 302, page  # to a sign-in page


def test_django_admin_shares_the_count_with_the_portal_and_the_api(root):
    client = Client()
    _portal(client, "root", "wrong-1")
    _portal(client, "root", "wrong-2")
    _token(client, "root", "wrong-3")
    _token(client, "root", "wrong-4")
    assert _admin(client, "root", "wrong-5").status_code == 200
    assert _admin(client, "root", ADMIN_PASSWORD).status_code == 429
    assert _token(client, "root", ADMIN_PASSWORD).status_code == 429
    assert _portal(client, "root", ADMIN_PASSWORD).status_code == 429


def test_django_admin_still_signs_in_with_the_right_password(root):
    client = Client()
    response = _admin(client, "root", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert client.get("/django-admin/").status_code == 200


@pytest.fixture
def urls_without_django_admin(settings):
    import jifen.urls

    settings.DJANGO_ADMIN = False
    importlib.reload(jifen.urls)
    clear_url_caches()
    yield
    settings.DJANGO_ADMIN = True
    importlib.reload(jifen.urls)
    clear_url_caches()


def test_django_admin_can_be_taken_off_the_site(root, urls_without_django_admin):
    client = Client()
    assert _admin(client, "root", ADMIN_PASSWORD).status_code == 404
    assert client.get("/django-admin/").status_code == 404
    assert "_auth_user_id" not in client.session


# --- no enumeration -------------------------------------------------------------------------


@pytest.fixture
def hashes(monkeypatch):
    """How many times a password was hashed (checked, or hashed for show)."""
    counted = {"n": 0}
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        counted["n"] += 1
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return counted


def _answer(client: Client, username: str, password: str, hashes) -> tuple:
    before = hashes["n"]
    response = _token(client, username, password)
    return response.status_code, response.json(), hashes["n"] - before


def test_unknown_users_and_wrong_passwords_get_the_same_answer_for_the_same_work(
        client, employee, hashes):
    left = EmployeeFactory(department=employee.department)
    User.objects.filter(pk=left.user_id).update(is_active=False)
    no_password = EmployeeFactory(department=employee.department)
    no_password.user.set_unusable_password()
    no_password.user.save()

    answers = {
        "unknown user": _answer(client, "nobody-here", PASSWORD, hashes),
        "wrong password": _answer(client, employee.user.username, "wrong", hashes),
        "inactive account, right password": _answer(client, left.user.username, PASSWORD,
                                                    hashes),
        "account without a password": _answer(client, no_password.user.username, PASSWORD,
                                              hashes),
    }
    assert len(set(map(json.dumps, answers.values()))) == 1, answers
    status, body, work = answers["unknown user"]
    assert status == 401 and body["error"]["code"] == "invalid_credentials" and work == 1


def test_unknown_and_known_usernames_are_paused_alike(client, employee):
    limit = settings.LOGIN_THROTTLE_LIMIT
    for username in ("nobody-here", employee.user.username):
        answers = [_token(client, username, "wrong").status_code for _ in range(limit + 1)]
        assert answers == [401] * limit + [429]


# --- one account, many spellings --------------------------------------------------------------

# Five spellings of "alice" that differ in accents, case and width only, then a sixth.
SPELLINGS = ["álice", "àlice", "alicé", "ａlice", "ÄLICE"]
ANOTHER_SPELLING = "ａｌｉｃｅ"


def test_accent_and_width_variants_of_a_username_get_no_fresh_guesses(client, employee):
    """MariaDB's utf8mb4_unicode_ci collation ignores accents and width, so the database
    finds the account "alice" for "álice", "ａlice" …, while the throttle counted each
    spelling apart: every spelling got five fresh guesses at alice's password."""
    User.objects.filter(pk=employee.user_id).update(username="alice")
    for n, spelling in enumerate(SPELLINGS):
        assert _token(client, spelling, f"guess-{n}").status_code == 401, spelling
    assert _token(client, ANOTHER_SPELLING, PASSWORD).status_code == 429

    if User.objects.filter(username=ANOTHER_SPELLING).exists():
        # The database takes the spellings for the account itself (MariaDB, MySQL): the
        # guesses were at alice's password, so alice is paused however she is spelt.
        assert _token(client, "alice", PASSWORD).status_code == 429
    else:
        # The spellings are other, unknown names (PostgreSQL, SQLite): no guess reached
        # alice's password, and the pause on that spelling is not hers.
        assert _token(client, "alice", PASSWORD).status_code == 200


def test_a_sign_in_looks_the_account_up_once(client, employee, django_assert_max_num_queries):
    """The account is found first (its id is what is counted), and the password is checked
    against that row, not looked up a second time."""
    from django.contrib.auth import authenticate

    with django_assert_max_num_queries(20) as counted:
        assert authenticate(None, username=employee.user.username, password="wrong",
                            address="198.51.100.7") is None
    lookups = [q["sql"] for q in counted.captured_queries
               if "auth_user" in q["sql"] or "people_user" in q["sql"]]
    assert len(lookups) == 1, lookups


# --- behind a proxy ---------------------------------------------------------------------------


def _via_proxy(client_address: str) -> dict:
    return {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": client_address}


def test_behind_a_trusted_proxy_a_username_sprayer_locks_out_only_itself(client, employee,
                                                                         settings):
    """21 failed sign-ins with made-up usernames locked every user out for 15 minutes:
    behind the proxy every client was 10.0.0.1."""
    settings.TRUSTED_PROXIES = 1
    limit = settings.LOGIN_THROTTLE_ADDRESS_LIMIT
    answers = [_token(client, f"made-up-{n}", "guess", **_via_proxy("198.51.100.7")).status_code
               for n in range(limit + 1)]
    assert answers == [401] * limit + [429]
    # Writing a forwarded-for of its own changes nothing: only the proxy's entry counts.
    spoofed = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.1, 198.51.100.7"}
    assert _token(client, "made-up-x", "guess", **spoofed).status_code == 429

    assert _token(client, employee.user.username, PASSWORD,
                  **_via_proxy("198.51.100.8")).status_code == 200
    other = Client()
    assert _portal(other, employee.user.username, PASSWORD,
                   **_via_proxy("198.51.100.9")).status_code == 302


def test_a_locked_account_does_not_lock_out_other_accounts(client, employee, settings):
    settings.TRUSTED_PROXIES = 1
    colleague = EmployeeFactory(department=employee.department)
    for _ in range(settings.LOGIN_THROTTLE_LIMIT):
        _token(client, employee.user.username, "guess", **_via_proxy("198.51.100.7"))
    # The guessed account waits, from anywhere …
    assert _token(client, employee.user.username, PASSWORD,
                  **_via_proxy("198.51.100.8")).status_code == 429
    # … and nobody else does.
    assert _token(client, colleague.user.username, PASSWORD,
                  **_via_proxy("198.51.100.8")).status_code == 200
    assert _token(client, colleague.user.username, PASSWORD,
                  **_via_proxy("198.51.100.7")).status_code == 200


# --- a parallel burst -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sixteen_parallel_guessers_get_no_more_password_checks_than_the_limit(
        employee, monkeypatch, many_connections):
    """16 parallel guessers got 10 real password checks past a limit of 5."""
    if connection.vendor == "sqlite":
        pytest.skip("threads need a database server (PostgreSQL, MariaDB)")
    checks = []
    check_password = User.check_password

    def counting(self, raw_password):
        checks.append(raw_password)
        return check_password(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    guessers = 16
    barrier = threading.Barrier(guessers)
    statuses: list[int] = []
    crashes: list[BaseException] = []

    def guess(n: int) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            response = _token(Client(), employee.user.username, f"guess-{n}",
                              REMOTE_ADDR=f"198.51.100.{n + 1}")
            statuses.append(response.status_code)
        except BaseException as exc:  # reported below
            crashes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not crashes, crashes
    limit = settings.LOGIN_THROTTLE_LIMIT
    assert len(checks) == limit
    assert sorted(statuses) == [401] * limit + [429] * (guessers - limit)


# --- changing one's password ------------------------------------------------------------------


def test_guessing_the_current_password_on_the_change_form_is_throttled(client, employee):
    """A stolen session cannot guess its way to a new password any faster."""
    client.force_login(employee.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("password_change")
    new = "Another-Passw0rd-2026"
    for n in range(settings.LOGIN_THROTTLE_LIMIT):
        client.post(url, {"old_password": f"guess-{n}", "new_password": new,
                          "new_password_again": new})
    response = client.post(url, {"old_password": PASSWORD, "new_password": new,
                                 "new_password_again": new})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    employee.user.refresh_from_db()
    assert employee.user.check_password(PASSWORD)


def test_createadmin_lets_a_locked_out_admin_in_with_the_new_password(root):
    client = Client()
    for n in range(settings.LOGIN_THROTTLE_LIMIT):
        _admin(client, "root", f"guess-{n}")
    assert _admin(client, "root", ADMIN_PASSWORD).status_code == 429
    call_command("createadmin", "--username", "root", "--password", "Fresh-Passw0rd-2026!")
    assert _admin(client, "root", ADMIN_PASSWORD).status_code == 200  # wrong now, not paused
    assert _admin(client, "root", "Fresh-Passw0rd-2026!").status_code == 302
