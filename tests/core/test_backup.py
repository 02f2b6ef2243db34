"""`jifen backup` and `jifen restore`, run as the operator runs them (subprocesses of the
real command line) against the database this suite runs on: SQLite, PostgreSQL or MariaDB.

A backup is taken while another process keeps posting points; it is restored into a
fresh database and must verify clean and hold a whole state between the counts before and
after the backup. The archive is untrusted on restore: damaged, forged, unsafe or foreign
files are refused and change nothing, and a database holding data is replaced only with
--force."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

from jifen.core.backup import DATABASE_MEMBER, MANIFEST, sign_manifest
from jifen.ledger import services
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db(transaction=True)

JIFEN = str(Path(sys.executable).parent / "jifen")
VENDOR = connection.vendor
OTHER_VENDOR = {"sqlite": "postgresql", "postgresql": "mysql", "mysql": "sqlite"}[VENDOR]

LOAD = """
import os, sys, time
import django
django.setup()
from jifen.ledger import services
from jifen.people.models import Employee

alice, bob = Employee.objects.order_by("pk")[:2]
stop, run = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 60
n = 0
while not os.path.exists(stop) and time.monotonic() < deadline and n < 5000:
    n += 1
    services.adjust(employee=alice, amount=7, reason="load", actor=None,
                    idempotency_key=f"load-{run}-{n}-a")
    if n % 3 == 0:
        services.transfer(sender=alice, recipient=bob, amount=3,
                          idempotency_key=f"load-{run}-{n}-t")
    if n % 5 == 0:
        services.adjust(employee=bob, amount=-2, reason="load", actor=None,
                        idempotency_key=f"load-{run}-{n}-b")
    print(n, flush=True)
"""


# --- databases --------------------------------------------------------------------------


def _server_kwargs() -> dict:
    db = connection.settings_dict
    return {"host": db["HOST"] or "127.0.0.1", "port": int(db["PORT"] or 0) or None,
            "user": db["USER"], "password": db["PASSWORD"] or ""}


@dataclass
class Database:
    """A database the commands are pointed at: its JIFEN_DATABASE_URL and a way to read
    it from here without Django."""

    url: str
    name: str

    def count_transactions(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM ledger_transaction")[0][0])

    def query(self, sql: str) -> list[tuple]:
        if VENDOR == "sqlite":
            with sqlite3.connect(self.name, timeout=30) as conn:
                return conn.execute(sql).fetchall()
        if VENDOR == "postgresql":
            import psycopg

            kw = _server_kwargs()
            with psycopg.connect(dbname=self.name, host=kw["host"], port=kw["port"],
                                 user=kw["user"], password=kw["password"]) as conn:
                return conn.execute(sql).fetchall()
        import MySQLdb

        kw = _server_kwargs()
        conn = MySQLdb.connect(db=self.name, host=kw["host"], port=kw["port"] or 3306,
                               user=kw["user"], passwd=kw["password"])
        try:
            cursor = conn.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            conn.close()

    def exists(self) -> bool:
        if VENDOR == "sqlite":
            return Path(self.name).exists()
        return bool(_on_server(f"SELECT 1 FROM {_catalogue()} WHERE {_name_column()} = "
                               f"'{self.name}'"))


def _catalogue() -> str:
    return "pg_database" if VENDOR == "postgresql" else "information_schema.schemata"


def _name_column() -> str:
    return "datname" if VENDOR == "postgresql" else "schema_name"


def _on_server(sql: str) -> list[tuple]:
    kw = _server_kwargs()
    if VENDOR == "postgresql":
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, host=kw["host"],
                             port=kw["port"], user=kw["user"],
                             password=kw["password"]) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []
    import MySQLdb

    conn = MySQLdb.connect(host=kw["host"], port=kw["port"] or 3306, user=kw["user"],
                           passwd=kw["password"])
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        conn.close()


def _url_for(name: str) -> str:
    return urlsplit(os.environ["JIFEN_DATABASE_URL"])._replace(path="/" + name).geturl()


@pytest.fixture
def people():
    """Two employees with points: the state every backup here starts from."""
    services.ensure_company_accounts()
    alice, bob = EmployeeFactory(), EmployeeFactory()
    for who in (alice, bob):
        services.ensure_accounts(employee=who)
        services.adjust(employee=who, amount=100, reason="start", actor=None,
                        idempotency_key=f"start-{who.pk}")
    return alice, bob


@pytest.fixture
def source(people, tmp_path) -> Database:
    """The database under test as a subprocess reaches it. SQLite's test database lives in
    this process's memory: it is copied to a file (WAL, as jifen runs it) through the
    online backup API, and that file is the source."""
    if VENDOR == "sqlite":
        path = tmp_path / "source.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        return Database(url=f"sqlite:///{path}", name=str(path))
    name = connection.settings_dict["NAME"]
    return Database(url=_url_for(name), name=name)


@pytest.fixture
def fresh(tmp_path):
    """A database name no one uses yet (restore creates it); dropped after the test."""
    if VENDOR == "sqlite":
        path = tmp_path / f"restore_{secrets.token_hex(4)}.sqlite3"
        yield Database(url=f"sqlite:///{path}", name=str(path))
        return
    name = f"jifen_restore_{secrets.token_hex(6)}"
    yield Database(url=_url_for(name), name=name)
    if VENDOR == "postgresql":
        _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        _on_server(f"DROP DATABASE IF EXISTS `{name}`")


# --- running the commands -----------------------------------------------------------------


def _environment(root: Path, database: Database) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIFEN_")}
    env.update({
        "JIFEN_DATABASE_URL": database.url, "JIFEN_SECRET_KEY": settings.SECRET_KEY,
        "JIFEN_VAR_DIR": str(root / "var"), "JIFEN_MEDIA_ROOT": str(root / "media"),
        "JIFEN_PRIVATE_ROOT": str(root / "private"),
        "DJANGO_SETTINGS_MODULE": "jifen.settings",
    })
    if os.environ.get("JIFEN_REDIS_URL"):
        env["JIFEN_REDIS_URL"] = os.environ["JIFEN_REDIS_URL"]
    return env


@pytest.fixture
def install(tmp_path):
    """install(name, database) → the environment of one installation: its database, its
    own file folders and var folder, and this suite's secret key."""

    def make(name: str, database: Database) -> dict[str, str]:
        return _environment(tmp_path / name, database)

    return make


def jifen(env: dict[str, str], *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([JIFEN, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def put_files(env: dict[str, str]) -> dict[str, bytes]:
    files = {"media/items/cup.png": b"\x89PNG fake picture",
             "media/logo/logo.svg": b"<svg/>",
             "private/imports/people-3f2a.xlsx": b"PK\x03\x04 employees"}
    for name, content in files.items():
        prefix, rest = name.split("/", 1)
        path = Path(env["JIFEN_MEDIA_ROOT" if prefix == "media" else "JIFEN_PRIVATE_ROOT"]) / rest
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def read_files(env: dict[str, str]) -> dict[str, bytes]:
    found = {}
    for prefix, var in (("media", "JIFEN_MEDIA_ROOT"), ("private", "JIFEN_PRIVATE_ROOT")):
        root = Path(env[var])
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_file():
                found[f"{prefix}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    return found


@pytest.fixture
def backup(source, install, tmp_path) -> Path:
    """A real backup of the source (two employees with points, three files)."""
    env = install("origin", source)
    put_files(env)
    path = tmp_path / "backup.tar"
    made = jifen(env, "backup", "--output", str(path))
    assert made.returncode == 0, made.stderr
    return path


# Tests that only read the shared backup and restore into a fresh database use no Django
# database themselves: no flush after each.
READS_THE_SHARED_BACKUP = pytest.mark.django_db(transaction=False)


@pytest.fixture(scope="module")
def shared_backup(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """One real backup (two employees with points, three files) for the tests that only
    read it: taking one is seconds of subprocess on a loaded machine. The rows it needs
    are flushed again after, as a transactional test would."""
    from django.core.management import call_command

    root = tmp_path_factory.mktemp("shared")
    with django_db_blocker.unblock():
        try:
            services.ensure_company_accounts()
            for who in (EmployeeFactory(), EmployeeFactory()):
                services.ensure_accounts(employee=who)
                services.adjust(employee=who, amount=100, reason="start", actor=None,
                                idempotency_key=f"shared-start-{who.pk}")
            if VENDOR == "sqlite":
                path = root / "source.sqlite3"
                connection.ensure_connection()
                target = sqlite3.connect(path)
                connection.connection.backup(target)
                target.close()
                database = Database(url=f"sqlite:///{path}", name=str(path))
            else:
                name = connection.settings_dict["NAME"]
                database = Database(url=_url_for(name), name=name)
            env = _environment(root / "origin", database)
            put_files(env)
            made = jifen(env, "backup", "--output", str(root / "backup.tar"))
            assert made.returncode == 0, made.stderr
        finally:
            call_command("flush", interactive=False, verbosity=0)
    return root / "backup.tar"


# --- rewriting archives the way an attacker would -------------------------------------------


def rebuild(original: Path, out: Path, *, manifest_change=None, extra=(), content_change=None,
            rename=None, sign: bool = True) -> Path:
    """Copy ``original`` to ``out`` changing the manifest, members' content, or adding
    members (TarInfo, bytes | None); the manifest is signed with this suite's key when
    ``sign`` (an attacker who holds it, or a file passed with --trust-origin)."""
    with tarfile.open(original) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    manifest = json.loads(members[0][1])
    body = [(m, content_change(m.name, data) if content_change else data)
            for m, data in members[1:]]
    if manifest_change:
        manifest_change(manifest)
    manifest.pop("signature", None)
    manifest = sign_manifest(manifest) if sign else {**manifest, "signature": "0" * 64}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        for member, data in body:
            member.size = len(data)
            member.name = (rename or {}).get(member.name, member.name)
            tar.addfile(member, io.BytesIO(data))
    return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_refused(result: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# --- the backup taken under load ------------------------------------------------------------


def test_a_backup_taken_while_points_are_posted_restores_a_whole_state(
        source, fresh, install, tmp_path):
    origin = install("origin", source)
    files = put_files(origin)
    stop = tmp_path / "stop"
    load = subprocess.Popen([sys.executable, "-c", LOAD, str(stop), secrets.token_hex(4)],
                            env=origin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    posted: list[int] = []
    reader = threading.Thread(target=lambda: posted.extend(int(x) for x in load.stdout),
                              daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while len(posted) < 20:
            assert load.poll() is None, load.stderr.read()
            assert time.monotonic() < deadline, "the load never got going"
            time.sleep(0.05)
        before = source.count_transactions()
        posted_before = len(posted)
        made = jifen(origin, "backup", "--output", str(tmp_path / "under-load.tar"))
        posted_during = len(posted) - posted_before
        after = source.count_transactions()
        still_running = load.poll() is None
    finally:
        stop.touch()
        load.wait(timeout=60)
        reader.join(timeout=10)
    assert made.returncode == 0, made.stderr
    assert still_running and posted_during > 0, "the backup did not run under load"
    assert before < after
    archive = Path(made.stdout.strip().splitlines()[-1])
    assert archive == tmp_path / "under-load.tar"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    target = install("restored", fresh)
    restored = jifen(target, "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Ledger OK." in restored.stdout
    verify = jifen(target, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert before <= fresh.count_transactions() <= after
    assert read_files(target) == files


# --- refusals -------------------------------------------------------------------------------


def post_one_more(env: dict[str, str]) -> None:
    """One more adjustment in the installation's database, from another process."""
    script = ("import django; django.setup()\n"
              "from jifen.ledger import services\n"
              "from jifen.people.models import Employee\n"
              "services.adjust(employee=Employee.objects.order_by('pk').first(), amount=1,"
              " reason='after the backup', actor=None, idempotency_key='after-backup')\n")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)


def test_restore_refuses_a_database_that_holds_data_without_force(backup, source, install):
    env = install("origin", source)
    post_one_more(env)
    count = source.count_transactions()
    refused = jifen(env, "restore", str(backup))
    assert_refused(refused, 3, "holds data", "--force")
    assert source.count_transactions() == count


def test_force_replaces_the_database_and_files(backup, source, install):
    env = install("origin", source)
    in_backup = source.count_transactions()
    post_one_more(env)
    logo = Path(env["JIFEN_MEDIA_ROOT"]) / "logo" / "logo.svg"
    logo.write_bytes(b"<svg>changed since</svg>")
    stray = Path(env["JIFEN_PRIVATE_ROOT"]) / "imports" / "uploaded-since.xlsx"
    stray.write_bytes(b"PK not in the backup")
    forced = jifen(env, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Ledger OK." in forced.stdout
    assert source.count_transactions() == in_backup
    assert logo.read_bytes() == b"<svg/>"
    assert set(read_files(env)) == {"media/items/cup.png", "media/logo/logo.svg",
                                    "private/imports/people-3f2a.xlsx"}
    assert not stray.exists()
    private = Path(env["JIFEN_PRIVATE_ROOT"])
    assert {p.stat().st_mode & 0o777 for p in private.rglob("*") if p.is_dir()} \
        == {0o700}
    assert not [p for root in ("JIFEN_MEDIA_ROOT", "JIFEN_PRIVATE_ROOT")
                for p in Path(env[root]).iterdir() if p.name.startswith(".jifen-restore")]


def _resign(original: Path, out: Path, change) -> Path:
    """The backup with its database member's bytes changed by ``change`` and the manifest
    signed again for them: only the dump itself is wrong."""
    name = DATABASE_MEMBER[VENDOR]
    with tarfile.open(original) as tar:
        changed = change(tar.extractfile(name).read())

    def listed(manifest):
        manifest["database"].update(size=len(changed), sha256=_sha(changed))

    return rebuild(original, out, manifest_change=listed,
                   content_change=lambda n, data: changed if n == name else data)


def _garbage_dump(data: bytes) -> bytes:
    import gzip

    if VENDOR == "postgresql":
        return b"PGDMP" + b"\x01" * 300
    if VENDOR == "mysql":
        return gzip.compress(b"SELECT 1;\n" * 1000)[:-40]  # cut: the gzip check fails
    return gzip.compress(b"SQLite format 3\x00" + b"\x07" * 4096)


def test_a_dump_its_tool_cannot_read_is_refused_before_the_target_changes(
        backup, source, install, tmp_path):
    env = install("origin", source)
    post_one_more(env)
    count, files = source.count_transactions(), read_files(env)
    bad = _resign(backup, tmp_path / "bad-dump.tar", _garbage_dump)
    refused = jifen(env, "restore", "--force", str(bad))
    assert_refused(refused, 4)
    assert source.count_transactions() == count
    assert read_files(env) == files


@pytest.mark.skipif(VENDOR != "postgresql", reason="only PostgreSQL loads in one transaction; "
                                                   "docs/backup.md says what MariaDB leaves")
def test_a_load_that_fails_part_way_leaves_the_target_as_it_was(backup, source, install,
                                                                tmp_path):
    """The dump's table of contents reads (pg_restore --list passes), but a table's data
    is damaged: pg_restore fails after the drops and part of the load have run."""
    env = install("origin", source)
    post_one_more(env)
    count = source.count_transactions()

    def damage_data(data: bytes) -> bytes:
        damaged = bytearray(data)
        for offset in range(len(data) - 200, len(data) - 20, 7):
            damaged[offset] ^= 0x5A
        return bytes(damaged)

    bad = _resign(backup, tmp_path / "half.tar", damage_data)
    failed = jifen(env, "restore", "--force", str(bad))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "pg_restore failed" in failed.stderr, failed.stderr
    assert source.count_transactions() == count
    assert jifen(env, "ledger", "verify").returncode == 0


def test_restore_checks_the_file_folders_before_the_database_changes(backup, source, install):
    env = install("origin", source)
    post_one_more(env)
    count = source.count_transactions()
    private = Path(env["JIFEN_PRIVATE_ROOT"])
    for path in sorted(private.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    private.rmdir()
    private.write_bytes(b"a file where the private folder should be")
    refused = jifen(env, "restore", "--force", str(backup))
    assert_refused(refused, 1, "not a folder")
    assert source.count_transactions() == count


@pytest.fixture
def signed_in(people):
    """A web session, an employee API token and an API key, in the database before the
    backup is taken."""
    from django.contrib.sessions.backends.db import SessionStore

    from jifen.integrations.models import ApiKey
    from jifen.people import services as people_services

    alice = people[0]
    session = SessionStore()
    session["_auth_user_id"] = str(alice.user_id)
    session.create()
    people_services.issue_access_token(user=alice.user)
    ApiKey.objects.create(name="payroll", prefix="jk_test1", key_hash="0" * 64,
                          scopes=["read"])
    return alice


def test_restore_ends_every_session_and_token_unless_told_to_keep_them(
        signed_in, backup, fresh, install):
    restored = jifen(install("restored", fresh), "restore", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Ended every web session and employee API token" in restored.stdout
    assert "1 API key(s) are active" in restored.stdout
    assert "revoke them again" in restored.stdout
    assert fresh.query("SELECT COUNT(*) FROM django_session")[0][0] == 0
    assert fresh.query("SELECT COUNT(*) FROM people_accesstoken "
                       "WHERE revoked_at IS NULL")[0][0] == 0
    assert fresh.query("SELECT MIN(credentials_epoch) FROM people_user")[0][0] >= 1


def test_keep_sign_ins_keeps_the_backups_sessions_and_tokens(signed_in, backup, fresh,
                                                            install):
    restored = jifen(install("restored", fresh), "restore", "--keep-sign-ins", str(backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "--keep-sign-ins" in restored.stdout
    assert fresh.query("SELECT COUNT(*) FROM django_session")[0][0] == 1
    assert fresh.query("SELECT COUNT(*) FROM people_accesstoken "
                       "WHERE revoked_at IS NULL")[0][0] == 1


@READS_THE_SHARED_BACKUP
def test_restore_refuses_a_backup_of_another_database_vendor(shared_backup, fresh, install,
                                                           tmp_path):
    def to_other(manifest):
        manifest["vendor"] = OTHER_VENDOR
        manifest["database"]["member"] = DATABASE_MEMBER[OTHER_VENDOR]

    foreign = rebuild(shared_backup, tmp_path / "foreign.tar", manifest_change=to_other,
                      rename={DATABASE_MEMBER[VENDOR]: DATABASE_MEMBER[OTHER_VENDOR]})
    refused = jifen(install("restored", fresh), "restore", str(foreign))
    assert_refused(refused, 4, f"backup of a {OTHER_VENDOR} database")
    assert not fresh.exists()


@READS_THE_SHARED_BACKUP
def test_restore_refuses_a_damaged_archive_and_changes_nothing(shared_backup, fresh, install,
                                                               tmp_path):
    damaged = tmp_path / "damaged.tar"
    data = bytearray(shared_backup.read_bytes())
    with tarfile.open(shared_backup) as tar:
        member = tar.getmember(DATABASE_MEMBER[VENDOR])
    middle = member.offset_data + member.size // 2
    data[middle] ^= 0xFF
    damaged.write_bytes(bytes(data))
    target = install("restored", fresh)
    refused = jifen(target, "restore", str(damaged))
    assert_refused(refused, 4, "does not match its checksum")
    assert not fresh.exists()
    assert read_files(target) == {}

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    assert_refused(jifen(target, "restore", str(truncated)), 4)
    assert not fresh.exists()

    not_a_backup = tmp_path / "notes.tar"
    not_a_backup.write_bytes(b"just some text, not a tar at all" * 100)
    assert_refused(jifen(target, "restore", str(not_a_backup)), 4)


@READS_THE_SHARED_BACKUP
def test_restore_refuses_an_archive_altered_without_the_key(shared_backup, fresh, install,
                                                          tmp_path):
    """Checksums alone would not stop someone who recomputes them: the manifest is signed
    with a key derived from JIFEN_SECRET_KEY."""
    evil = b"<svg onload=alert(1)/>"

    def swap(name, data):
        return evil if name == "media/logo/logo.svg" else data

    def recompute(manifest):
        for entry in manifest["files"]:
            if entry["path"] == "media/logo/logo.svg":
                entry["size"], entry["sha256"] = len(evil), _sha(evil)

    forged = rebuild(shared_backup, tmp_path / "forged.tar", manifest_change=recompute,
                     content_change=swap, sign=False)
    target = install("restored", fresh)
    assert_refused(jifen(target, "restore", str(forged)), 4, "signature", "--trust-origin")
    assert not fresh.exists()
    assert read_files(target) == {}
    # Another installation's key: the same refusal.
    foreign_key = {**target, "JIFEN_SECRET_KEY": "another installation's key"}
    assert_refused(jifen(foreign_key, "restore", str(shared_backup)), 4, "signature")
    assert not fresh.exists()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 0):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size
    return info


UNSAFE_NAMES = [
    (_member("media/../../escaped.txt", size=4), b"evil"),
    (_member("private/../../../escaped.txt", size=4), b"evil"),
    (_member("/tmp/escaped.txt", size=4), b"evil"),
]
NOT_FILES = [
    (_member("media/escaped.txt", tarfile.SYMTYPE, link="/etc/passwd"), None),
    (_member("media/escaped.txt", tarfile.LNKTYPE, link="manifest.json"), None),
    (_member("media/dev", tarfile.CHRTYPE), None),
    (_member("media", tarfile.DIRTYPE), None),
]


@READS_THE_SHARED_BACKUP
@pytest.mark.parametrize("cases", [UNSAFE_NAMES, NOT_FILES], ids=["names", "links-and-devices"])
def test_restore_refuses_members_that_would_escape_the_folders(
        shared_backup, fresh, install, tmp_path, cases):
    """Signed with the right key (listed in the manifest when a regular file), so only the
    checks of names and member types stand in the way."""
    target = install("restored", fresh)
    for index, (member, content) in enumerate(cases):

        def listed(manifest, member=member, content=content):
            if member.isreg():
                manifest["files"].append({"path": member.name, "size": len(content),
                                          "sha256": _sha(content)})

        unsafe = rebuild(shared_backup, tmp_path / f"unsafe-{index}.tar", manifest_change=listed,
                         extra=[(member, content)])
        refused = jifen(target, "restore", str(unsafe))
        assert_refused(refused, 4, "refused")
        assert not fresh.exists()
        assert read_files(target) == {}
        assert not list(tmp_path.rglob("escaped.txt"))
        assert not Path("/tmp/escaped.txt").exists()


@READS_THE_SHARED_BACKUP
def test_restore_refuses_a_member_the_manifest_does_not_list(shared_backup, fresh, install,
                                                            tmp_path):
    smuggled = rebuild(shared_backup, tmp_path / "smuggled.tar",
                       extra=[(_member("media/extra.html", size=3), b"<b>")])
    refused = jifen(install("restored", fresh), "restore", str(smuggled))
    assert_refused(refused, 4, "does not list")
    assert not fresh.exists()


@READS_THE_SHARED_BACKUP
def test_restore_refuses_a_backup_from_a_newer_jifen(shared_backup, fresh, install, tmp_path):
    def newer(manifest):
        manifest["migrations"].append("ledger.9999_from_the_future")
        manifest["jifen_version"] = "99.0"

    future = rebuild(shared_backup, tmp_path / "future.tar", manifest_change=newer)
    refused = jifen(install("restored", fresh), "restore", str(future))
    assert_refused(refused, 4, "newer jifen", "ledger.9999_from_the_future")
    assert not fresh.exists()


@READS_THE_SHARED_BACKUP
def test_trust_origin_restores_a_backup_made_with_another_key(shared_backup, fresh, install):
    target = {**install("restored", fresh), "JIFEN_SECRET_KEY": "the new server's key"}
    restored = jifen(target, "restore", "--trust-origin", str(shared_backup))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "Warning: the signature does not match" in restored.stdout
    assert "Ledger OK." in restored.stdout


def _reversible_leaf() -> tuple[str, str, str]:
    """(app, previous, leaf): a latest migration that can be unapplied, to make a backup
    that is older than the code."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    for app, name in sorted(loader.graph.leaf_nodes()):
        migration = loader.get_migration(app, name)
        parents = [p.key for p in loader.graph.node_map[(app, name)].parents if p.key[0] == app]
        if len(parents) == 1 and all(op.reversible for op in migration.operations):
            return app, parents[0][1], name
    pytest.skip("no latest migration can be unapplied")


@pytest.mark.skipif(VENDOR != "sqlite", reason="one database is enough for the migration "
                                               "step; the shared test database stays current")
def test_restoring_an_older_backup_applies_the_newer_migrations(source, fresh, install,
                                                                tmp_path):
    app, previous, leaf = _reversible_leaf()
    origin = install("origin", source)
    rolled = jifen(origin, "migrate", app, previous)
    assert rolled.returncode == 0, rolled.stderr
    made = jifen(origin, "backup", "--output", str(tmp_path / "older.tar"))
    assert made.returncode == 0, made.stderr
    with tarfile.open(tmp_path / "older.tar") as tar:
        assert f"{app}.{leaf}" not in json.loads(tar.extractfile(MANIFEST).read())["migrations"]
    restored = jifen(install("restored", fresh), "restore", str(tmp_path / "older.tar"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "applying the newer migrations" in restored.stdout
    assert "Ledger OK." in restored.stdout
    assert fresh.query(f"SELECT 1 FROM django_migrations WHERE app = '{app}' AND name = '{leaf}'")


def test_backup_refuses_to_write_into_the_public_media_folder(source, install):
    env = install("origin", source)
    inside = Path(env["JIFEN_MEDIA_ROOT"]) / "backups"
    inside.mkdir(parents=True)
    refused = jifen(env, "backup", "--output", str(inside))
    assert_refused(refused, 1, "outside")
    assert not list(inside.iterdir())


# --- reading an archive: memory, disk and terminal stay safe (in-process, no subprocess) ----


def _archive(path: Path, *, files: dict[str, bytes] | None = None, manifest_change=None,
             before: tuple = (), fmt: int = tarfile.PAX_FORMAT, database: bytes = b"db",
             member_types: dict[str, bytes] | None = None) -> Path:
    """A small signed archive of this vendor: ``files`` listed in the manifest, ``before``
    (TarInfo, bytes) placed ahead of the manifest."""
    files = files or {}
    dbname = DATABASE_MEMBER[VENDOR]
    manifest = {"format": "jifen-backup/1", "jifen_version": "1.0", "vendor": VENDOR,
                "created_at": "2026-01-01T00:00:00+00:00", "migrations": [],
                "database": {"member": dbname, "size": len(database), "sha256": _sha(database),
                             "content_size": 10, "server_version": "x"},
                "files": [{"path": n, "size": len(d), "sha256": _sha(d)}
                          for n, d in files.items()]}
    if manifest_change:
        manifest_change(manifest)
    body = json.dumps(sign_manifest(manifest)).encode()
    with tarfile.open(path, "w", format=fmt) as tar:
        for info, data in before:
            tar.addfile(info, io.BytesIO(data))
        for name, data in [(MANIFEST, body), (dbname, database), *files.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.type = (member_types or {}).get(name, tarfile.REGTYPE)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.django_db(transaction=False)
def test_a_huge_extended_header_is_refused_before_it_is_read(tmp_path):
    import tracemalloc

    from jifen.core.backup import ArchiveRefused, read_archive

    comment = tarfile.TarInfo("pad")
    comment.pax_headers = {"comment": "A" * (40 * 1024 * 1024)}
    path = _archive(tmp_path / "pax.tar", before=[(comment, b"")])
    (tmp_path / "staged").mkdir()
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveRefused, match="extended header"):
            read_archive(path, tmp_path / "staged")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024
    long_name = tarfile.TarInfo("L" * (200 * 1024))
    path = _archive(tmp_path / "gnu.tar", before=[(long_name, b"")], fmt=tarfile.GNU_FORMAT)
    with pytest.raises(ArchiveRefused, match="extended header"):
        read_archive(path, tmp_path / "staged")


@pytest.mark.django_db(transaction=False)
def test_a_compressed_archive_is_refused(tmp_path):
    import gzip

    from jifen.core.backup import ArchiveRefused, read_archive

    plain = _archive(tmp_path / "plain.tar")
    packed = tmp_path / "packed.tar.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    (tmp_path / "staged").mkdir()
    with pytest.raises(ArchiveRefused, match="not a readable backup archive"):
        read_archive(packed, tmp_path / "staged")


@pytest.mark.django_db(transaction=False)
def test_a_sparse_member_is_refused(tmp_path):
    from jifen.core.backup import ArchiveRefused, read_archive

    path = _archive(tmp_path / "sparse.tar", files={"media/big.bin": b"x" * 10},
                    member_types={"media/big.bin": tarfile.GNUTYPE_SPARSE},
                    fmt=tarfile.GNU_FORMAT)
    (tmp_path / "staged").mkdir()
    with pytest.raises(ArchiveRefused, match="sparse"):
        read_archive(path, tmp_path / "staged")
    assert not (tmp_path / "staged" / "media").exists()


@pytest.mark.django_db(transaction=False)
def test_sizes_the_manifest_claims_must_fit_the_archive_and_the_disk(tmp_path, monkeypatch):
    from jifen.core.backup import ArchiveRefused, BackupError, read_archive
    from jifen.core.backup import archive as module

    (tmp_path / "staged").mkdir()

    def claims_more(manifest):
        manifest["files"].append({"path": "media/huge.bin", "size": 10 ** 12,
                                  "sha256": "0" * 64})

    with pytest.raises(ArchiveRefused, match="more bytes than the archive holds"):
        read_archive(_archive(tmp_path / "more.tar", manifest_change=claims_more),
                     tmp_path / "staged")

    def unpacks_to_much(manifest):
        manifest["vendor"] = "sqlite"
        manifest["database"]["member"] = DATABASE_MEMBER["sqlite"]
        manifest["database"]["content_size"] = 10 ** 12

    if VENDOR == "sqlite":
        with pytest.raises(ArchiveRefused, match="more than a gzip file"):
            read_archive(_archive(tmp_path / "bomb.tar", manifest_change=unpacks_to_much),
                         tmp_path / "staged")

    class Usage:
        free = 1024

    monkeypatch.setattr(module.shutil, "disk_usage", lambda _path: Usage)
    with pytest.raises(BackupError, match="Not enough free space") as refused:
        read_archive(_archive(tmp_path / "fine.tar"), tmp_path / "staged")
    assert refused.value.exit_code == 1


@pytest.mark.django_db(transaction=False)
def test_archive_text_is_printed_with_its_control_characters_escaped(tmp_path):
    from jifen.core.backup import ArchiveRefused, read_archive

    def hostile(manifest):
        manifest["jifen_version"] = "1.0\x1b]0;owned\x07\x9b31m"
        manifest["created_at"] = "now\r\nRestored OK"

    said: list[str] = []
    (tmp_path / "staged").mkdir()
    read_archive(_archive(tmp_path / "text.tar", manifest_change=hostile),
                 tmp_path / "staged", progress=said.append)
    assert all(c.isprintable() for line in said for c in line), said
    assert "\\x1b]0;owned\\x07\\x9b31m" in said[0]
    (tmp_path / "again").mkdir()
    with pytest.raises(ArchiveRefused, match="refused") as refused:
        read_archive(_archive(tmp_path / "c1.tar", files={"media/a\x9bb": b"x"}),
                     tmp_path / "again")
    assert all(c.isprintable() for c in str(refused.value))
