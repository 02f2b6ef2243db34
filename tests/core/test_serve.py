from __future__ import annotations

import pytest

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
