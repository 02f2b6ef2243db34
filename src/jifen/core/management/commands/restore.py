"""`jifen restore FILE [--force] [--trust-origin]`: put a `jifen backup` back
(docs/backup.md).

Exit codes: 0 restored and the ledger verifies; 1 a tool or the database failed; 3 refused
because the target database or file folders hold data (without --force); 4 refused because
the file is not a backup this installation restores (damaged, altered, signed with another
key, unsafe names, another database vendor, a newer jifen); 5 restored, but `jifen ledger
verify` finds breaches.

Every web session and employee API token ends after a restore (the backup may hold some
that were ended since it was taken) unless --keep-sign-ins; API keys are counted, not
revoked: the operator revokes again those revoked after the backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jifen.core.backup import BackupError, restore_backup, shown

LEDGER_BREACHED = 5


class Command(BaseCommand):
    help = ("Restore a `jifen backup` file into the database named by JIFEN_DATABASE_URL "
            "and the file folders, then verify the ledger. Stop the server and workers first.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", metavar="FILE", help="The backup to restore.")
        parser.add_argument("--force", action="store_true",
                            help="Replace a database and folders that hold data.")
        parser.add_argument("--trust-origin", action="store_true",
                            help="Restore a backup signed with another JIFEN_SECRET_KEY (made "
                                 "by another installation); its checksums and names are "
                                 "still checked.")
        parser.add_argument("--keep-sign-ins", action="store_true",
                            help="Keep the web sessions and employee API tokens the backup "
                                 "holds (by default every one is ended: they may include some "
                                 "ended since the backup was taken).")
        parser.add_argument("--temp-dir", metavar="FOLDER",
                            help="Where to unpack the backup while checking it "
                                 "(default: the var folder); needs about its size free.")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        temp_dir = Path(options["temp_dir"]) if options.get("temp_dir") else None
        try:
            result = restore_backup(archive=Path(options["file"]), force=options["force"],
                                    trust_origin=options["trust_origin"],
                                    keep_sign_ins=options["keep_sign_ins"], progress=self.say,
                                    temp_dir=temp_dir)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        manifest = result.manifest
        made = shown(manifest.get("created_at"))
        self.say(f"Restored the backup made {made} by jifen "
                 f"{shown(manifest.get('jifen_version'))}"
                 f"{' and migrated it to this version' if result.migrated else ''}.")
        if result.sign_ins_ended:
            self.say("Ended every web session and employee API token: everyone signs in "
                     "again (--keep-sign-ins keeps them).")
        else:
            self.say(f"Kept the sessions and tokens of {made} (--keep-sign-ins): any ended "
                     f"since then work again.")
        self.say(f"{result.active_api_keys} API key(s) are active in the restored database. "
                 f"Keys revoked after {made} are active again: revoke them again.")
        for line in result.breaches:
            self.stdout.write(line)
        if result.breaches:
            raise CommandError(f"Restored, but the ledger check finds "
                               f"{len(result.breaches)} breach(es): see above.",
                               returncode=LEDGER_BREACHED)
        self.stdout.write(self.style.SUCCESS("Ledger OK."))
