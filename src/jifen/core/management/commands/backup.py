"""`jifen backup [-o FILE|FOLDER]`: the database and the uploaded files in one file
(docs/backup.md). Exit 0 and the backup's path on the last line; 1 and the reason when it
cannot be made."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jifen.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = ("Back up the database named by JIFEN_DATABASE_URL and the uploaded files "
            "(MEDIA_ROOT, PRIVATE_ROOT) into one file, consistent while the server runs.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("-o", "--output", metavar="PATH",
                            help="The file to write, or a folder to write it in "
                                 "(default: var/backups/jifen-<vendor>-<time>.tar).")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"]) if options.get("output") else None
        try:
            path = create_backup(output=output, progress=self.say)
        except BackupError as exc:
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        self.stdout.write(str(path))
