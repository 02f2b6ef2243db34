"""The service units and the nginx example in deploy/ (issue #19): systemd accepts the units
as written, they run as a dedicated user with the hardening options, and nginx sets the
headers jifen trusts."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ["jifen-web.service", "jifen-worker.service"]


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(DEPLOY / "systemd" / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    # The units name the installed command; point them at this checkout's so the check
    # that ExecStart is executable can pass on a machine without /opt/jifen.
    jifen = Path(sys.executable).with_name("jifen")
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/jifen/venv/bin/jifen", str(jifen)),
                                     encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
                          capture_output=True, text=True, timeout=60)
    # verify exits 0 even for unknown keys or bad values, which it only reports.
    assert done.returncode == 0, done.stderr
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if any(n in line for n in UNITS)]
    assert not complaints, "\n".join(complaints)


@pytest.mark.parametrize("name, command", [("jifen-web.service", "jifen serve"),
                                           ("jifen-worker.service", "jifen worker")])
def test_each_unit_runs_its_command_as_a_dedicated_user_hardened(name, command):
    service = unit(name)["Service"]
    assert command in service["ExecStart"]
    assert service["User"] == "jifen" and service["Group"] == "jifen"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ProtectHome"] == "yes"
    assert service["ReadWritePaths"] == "/var/lib/jifen"
    assert service["EnvironmentFile"] == "/etc/jifen/jifen.env"
    assert service["CapabilityBoundingSet"] == ""


def test_the_web_unit_gives_the_gunicorn_processes_one_metrics_directory():
    service = unit("jifen-web.service")["Service"]
    assert service["RuntimeDirectory"] == "jifen-metrics"
    assert service["Environment"] == "PROMETHEUS_MULTIPROC_DIR=/run/jifen-metrics"


def test_the_env_example_names_only_settings_jifen_reads():
    settings_text = (ROOT / "src" / "jifen" / "settings.py").read_text(encoding="utf-8")
    serve = (ROOT / "src" / "jifen" / "core" / "management" / "commands" / "serve.py").read_text(
        encoding="utf-8")
    names = [line.split("=", 1)[0] for line in
             (DEPLOY / "systemd" / "jifen.env.example").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert names
    for name in names:
        assert f'"{name}"' in settings_text + serve, f"{name} is read nowhere"


def test_nginx_sets_the_headers_jifen_trusts():
    conf = (DEPLOY / "nginx" / "jifen.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "client_max_body_size 21m;" in conf
    assert "JIFEN_TRUSTED_PROXIES=1" in conf


@pytest.mark.skipif(shutil.which("nginx") is None, reason="no nginx here")
def test_nginx_accepts_the_example(tmp_path):
    conf = (DEPLOY / "nginx" / "jifen.conf").read_text(encoding="utf-8")
    conf = conf.replace("listen 443 ssl;", "listen 8443;").replace("listen [::]:443 ssl;", "")
    conf = "\n".join(line for line in conf.splitlines() if not line.strip().startswith("ssl_"))
    conf = conf.replace("/var/log/nginx/", f"{tmp_path}/")
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
                    f"events {{}}\nhttp {{\n{conf}\n}}\n", encoding="utf-8")
    done = subprocess.run(["nginx", "-t", "-c", str(main), "-p", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
