"""`jifen lottery verify`: a finished draw recomputes from its published data alone; a
tampered seed or entry list exits 1."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from jifen.activities.models import Entry, Lottery
from jifen.activities.services import lottery as services
from tests.activities.conftest import make_lottery
from tests.activities.test_lottery_api import bearer
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def drawn(activities_admin):
    lottery = make_lottery(activities_admin.user, entry_cost=0)
    for _ in range(6):
        services.enter_lottery(lottery=lottery, employee=EmployeeFactory())
    past = timezone.now() - timedelta(seconds=1)
    Lottery.objects.filter(pk=lottery.pk).update(ends_at=past, draw_at=past)
    return services.draw_if_due(Lottery.objects.get(pk=lottery.pk))


def verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("lottery", "verify", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_a_finished_draw_verifies(drawn):
    code, out = verify(str(drawn.pk))
    assert code == 0, out
    assert "OK:" in out and drawn.seed in out


def test_a_downloaded_proof_verifies_and_tampering_fails(drawn, client, tmp_path):
    proof = client.get(f"/api/v1/lotteries/{drawn.pk}/proof",
                       **bearer(EmployeeFactory())).json()
    good = tmp_path / "proof.json"
    good.write_text(json.dumps(proof))
    assert verify("--file", str(good))[0] == 0
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({**proof, "seed": "ab" * 32}))
    code, out = verify("--file", str(seed))
    assert code == 1 and "does not match the commitment" in out
    entries = tmp_path / "entries.json"
    entries.write_text(json.dumps({**proof, "entries": proof["entries"][:-1]}))
    code, out = verify("--file", str(entries))
    assert code == 1 and "snapshot hash" in out


def test_an_entry_changed_in_the_database_after_the_draw_fails(drawn):
    entry = Entry.objects.filter(lottery=drawn).first()
    Entry.objects.filter(pk=entry.pk).update(weight=5)
    code, out = verify(str(drawn.pk))
    assert code == 1 and "FAIL" in out


def test_the_jifen_command_exits_1_on_a_bad_proof(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"algorithm": "hmac-sha256-v1", "seed": "00" * 32,
                               "commitment": "0" * 64, "entries": [], "snapshot_hash": "",
                               "tiers": [], "winners": []}))
    run = subprocess.run([sys.executable, "-m", "jifen.cli", "lottery", "verify", "--file",
                          str(bad)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAIL" in run.stdout
