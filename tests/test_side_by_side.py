"""Two test runs on one machine (a developer's and CI's, or two `make test`) use their own
databases: started at once against the same PostgreSQL or MariaDB server, both pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# A small file whose tests create, write and flush their databases.
TARGET = "tests/people/test_sql.py"


@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="once, on the PostgreSQL pass: SQLite test databases live in "
                           "memory, and MariaDB's are named by the same code")
def test_two_runs_started_at_once_both_pass():
    env = {k: v for k, v in os.environ.items()
           if k not in ("JIFEN_TEST_RUN_ID", "PYTEST_XDIST_WORKER",
                        "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", "2", TARGET]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
        assert " passed" in output
