"""The CI gates (issue 10, item 9): real `jifen serve` / `jifen worker` processes on a
database of their own on the suite's PostgreSQL or MariaDB server. Selected with
``-m gate``; they run in the PostgreSQL and MariaDB passes of `make test`
(JIFEN_DATABASE_URL=postgresql://… or mysql://…) and are skipped on SQLite."""

from __future__ import annotations

import pytest

from tests.gates.harness import Processes, Site, scratch_database, server_url


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "gate: CI gate running real servers and workers against PostgreSQL")


@pytest.fixture
def site(tmp_path, many_connections):
    """A migrated database of the gate's own (not pytest-django's), dropped afterwards.
    ``many_connections``: the servers' connections never run beside the flash sale's."""
    server = server_url()
    if server is None:
        pytest.skip("the gates run real servers on PostgreSQL or MariaDB")
    with scratch_database(server) as url:
        site = Site(database_url=url, tmp=tmp_path)
        site.run("migrate", "-v", "0", name="migrate")
        yield site


@pytest.fixture
def processes(site, request):
    """Servers and workers of the test; every one SIGKILLed at the end, pass or fail, and
    their logs' tails shown when the test failed."""
    procs = Processes(site)
    try:
        yield procs
    finally:
        procs.kill_all()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(procs.log_tails())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
