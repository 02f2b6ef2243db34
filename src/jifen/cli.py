"""The ``jifen`` command. Every subcommand is a Django management command, so
``jifen migrate``, ``jifen serve``, ``jifen worker``, ``jifen demo``, ``jifen apikey create``,
``jifen createadmin``, ``jifen check`` … all work, and ``jifen help`` lists them."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.settings")
    execute_from_command_line(["jifen", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
