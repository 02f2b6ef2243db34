"""`jifen lottery verify ID` recomputes a lottery's draw from its published proof alone
(the commitment, the entry snapshot, the revealed seed) and exits 0 when it agrees, 1 with
what does not; `--file proof.json` checks a proof downloaded from the API or the verifier
page instead of the database's. `jifen lottery draw-due` draws every lottery whose time has
come (what the worker does)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from jifen.activities import fairness
from jifen.activities.models import ActivityStatus, Lottery
from jifen.activities.selectors import lottery as selectors
from jifen.activities.services import lottery as services

MAX_PROOF_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = "Lotteries: `verify` a draw from its published proof; `draw-due` lotteries."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{verify,draw-due}")
        verify = actions.add_parser("verify", help="Recompute a draw; exit 1 if it disagrees.")
        verify.add_argument("lottery_id", nargs="?", type=int)
        verify.add_argument("--file", help="A proof JSON file (the API's /proof answer).")
        actions.add_parser("draw-due", help="Draw every lottery whose time has come.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "draw-due":
            self.stdout.write(f"Drew {services.draw_due_lotteries()} lotter(ies).")
            return
        proof = self._proof(options.get("lottery_id"), options.get("file"))
        self._report(proof)

    def _proof(self, lottery_id: int | None, file: str | None) -> dict:
        if file:
            path = Path(file)
            if not path.is_file() or path.stat().st_size > MAX_PROOF_BYTES:
                raise CommandError(f"{file}: not a readable proof file.", returncode=2)
            try:
                proof = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(f"{file}: not JSON ({exc}).", returncode=1) from exc
            if not isinstance(proof, dict):
                raise CommandError(f"{file}: not a proof object.", returncode=1)
            return proof
        if lottery_id is None:
            raise CommandError("Give a lottery id or --file.", returncode=2)
        lottery = Lottery.objects.filter(pk=lottery_id).first()
        if lottery is None or lottery.status == ActivityStatus.DRAFT:
            raise CommandError(f"No lottery {lottery_id}.", returncode=2)
        # The published proof, through JSON as a reader gets it.
        return json.loads(json.dumps(selectors.proof(services.draw_if_due(lottery)),
                                     cls=DjangoJSONEncoder))

    def _report(self, proof: dict) -> None:
        write = self.stdout.write
        write(f"Lottery {proof.get('lottery_id')}: {proof.get('title', '')}")
        write(f"Algorithm:     {proof.get('algorithm')}")
        write(f"Commitment:    {proof.get('commitment')} (published {proof.get('committed_at')})")
        write(f"Snapshot hash: {proof.get('snapshot_hash')} "
              f"({len(proof.get('entries') or [])} entries)")
        write(f"Seed:          {proof.get('seed') or '(not revealed yet)'}")
        for winner in proof.get("winners") or []:
            write(f"  draw {winner.get('draw_index')}: entry {winner.get('entry_id')} "
                  f"wins {winner.get('tier', winner.get('tier_id'))} "
                  f"(HMAC {winner.get('value', '')})")
        verdict = fairness.verify(proof)
        if not verdict.ok:
            for problem in verdict.problems:
                write(self.style.ERROR(f"FAIL: {problem}"))
            raise CommandError("The draw does not verify.", returncode=1)
        write(self.style.SUCCESS("OK: the seed matches the commitment, the entries match the "
                                 "snapshot hash and the recomputed winners are the published "
                                 "ones."))
