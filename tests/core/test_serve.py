from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from jifen.core.management.commands.serve import gunicorn_settings

OPTIONS = {"host": "0.0.0.0", "port": 8000, "workers": 2, "threads": 4}


def test_the_access_log_goes_to_stdout_unless_configured(monkeypatch):
    monkeypatch.delenv("JIFEN_ACCESS_LOG", raising=False)
    assert gunicorn_settings(OPTIONS)["accesslog"] == "-"
    monkeypatch.setenv("JIFEN_ACCESS_LOG", "/var/log/jifen/access.log")
    assert gunicorn_settings(OPTIONS)["accesslog"] == "/var/log/jifen/access.log"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_access_log_setting_turns_it_off(monkeypatch, value):
    monkeypatch.setenv("JIFEN_ACCESS_LOG", value)
    settings = gunicorn_settings(OPTIONS)
    assert settings["accesslog"] is None
    assert settings["bind"] == "0.0.0.0:8000" and settings["worker_class"] == "gthread"


# --- one control socket per instance (issue 10, finding 10) ---------------------------


def test_each_address_has_its_own_control_socket_under_the_var_dir(monkeypatch, settings,
                                                                    tmp_path):
    monkeypatch.delenv("JIFEN_CONTROL_SOCKET", raising=False)
    settings.VAR_DIR = tmp_path
    first = gunicorn_settings({**OPTIONS, "port": 8000})
    second = gunicorn_settings({**OPTIONS, "port": 8001})
    assert first["control_socket"] == str(tmp_path / "run" / "gunicorn-0.0.0.0-8000.ctl")
    assert second["control_socket"] == str(tmp_path / "run" / "gunicorn-0.0.0.0-8001.ctl")
    assert first["control_socket_mode"] == 0o600
    ipv6 = gunicorn_settings({**OPTIONS, "host": "::1"})["control_socket"]
    assert ipv6.endswith("gunicorn-__1-8000.ctl")


@pytest.mark.parametrize("value", ["", "off", "0"])
def test_the_control_socket_can_be_turned_off(monkeypatch, value):
    monkeypatch.setenv("JIFEN_CONTROL_SOCKET", value)
    config = gunicorn_settings(OPTIONS)
    assert config["control_socket_disable"] is True and "control_socket" not in config


def test_a_configured_control_socket_is_named_by_the_port(monkeypatch):
    monkeypatch.setenv("JIFEN_CONTROL_SOCKET", "/run/jifen/web-{port}.ctl")
    assert gunicorn_settings(OPTIONS)["control_socket"] == "/run/jifen/web-8000.ctl"


def test_a_var_dir_too_deep_for_a_socket_means_none_rather_than_a_shared_one(
        monkeypatch, settings, tmp_path):
    monkeypatch.delenv("JIFEN_CONTROL_SOCKET", raising=False)
    settings.VAR_DIR = tmp_path / ("deep" * 30)
    assert gunicorn_settings(OPTIONS)["control_socket_disable"] is True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/jifen/favicon.svg",
                                    timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)


def _listens_on(control: Path) -> list[str]:
    from gunicorn.ctl.client import ControlClient

    with ControlClient(str(control), timeout=10) as client:
        answer = client.send_command("show listeners")
    return [str(listener.get("address")) for listener in answer["listeners"]]


@pytest.fixture
def short_tmp_path():
    """A folder with a short path: pytest's own (deeper under xdist) can leave too little of
    a unix socket's 107 characters for var/run/gunicorn-127.0.0.1-PORT.ctl."""
    folder = Path(tempfile.mkdtemp(prefix="jifen-serve-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_two_instances_on_one_host_each_keep_their_own_control_socket(short_tmp_path):
    """Before: the second `jifen serve` took over the first one's control socket (both at
    gunicorn's one default path), and stopping the first removed the second's."""
    tmp_path = short_tmp_path
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIFEN_", "XDG_RUNTIME_DIR", "DJANGO_"))}
    # The static files this run collected (tests/conftest.py), not a compression per start.
    env.update(HOME=str(tmp_path / "home"), JIFEN_VAR_DIR=str(tmp_path / "var"),
               JIFEN_ACCESS_LOG="", PYTHONUNBUFFERED="1",
               JIFEN_STATIC_ROOT=str(django_settings.STATIC_ROOT))
    ports = [_free_port(), _free_port()]
    servers = {}
    try:
        for port in ports:
            servers[port] = subprocess.Popen(
                [sys.executable, "-m", "jifen.cli", "serve", "--port", str(port),
                 "--workers", "1", "--threads", "1", "--no-collectstatic"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in ports:
            _wait(lambda port=port: _serves(port), f"port {port} serves")
        addresses = {f"http://127.0.0.1:{port}": port for port in ports}

        def sockets_by_instance() -> dict[int, Path]:
            found = {}
            for control in tmp_path.rglob("*.ctl"):
                for address in _listens_on(control):
                    found[addresses[address]] = control
            return found

        with contextlib.suppress(AssertionError):  # the assertion below says what is missing
            _wait(lambda: len(sockets_by_instance()) == 2, "each has a control socket", 15)
        sockets = sockets_by_instance()
        assert sorted(sockets) == sorted(ports), f"control sockets reach only {sockets}"
        for port in ports:
            assert sockets[port] == tmp_path / "var" / "run" / f"gunicorn-127.0.0.1-{port}.ctl"
        assert not (tmp_path / "home" / ".gunicorn").exists()  # nothing at the shared default

        first, second = ports
        servers[first].send_signal(signal.SIGTERM)  # stop the first one alone
        assert servers[first].wait(timeout=60) == 0
        assert not _serves(first)
        assert _serves(second)
        assert _listens_on(sockets[second]) == [f"http://127.0.0.1:{second}"]

        from gunicorn.ctl.client import ControlClient

        with ControlClient(str(sockets[second]), timeout=10) as client:
            client.send_command("shutdown")  # the second is stopped through its own socket
        assert servers[second].wait(timeout=60) == 0
        assert not sockets[second].exists()
    finally:
        for server in servers.values():
            if server.poll() is None:
                server.kill()
                server.wait()
