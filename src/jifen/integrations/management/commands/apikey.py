"""`jifen apikey create --name N --scope S [--scope S …]` prints the key alone on its last
line; `jifen apikey list`; `jifen apikey revoke PREFIX`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jifen.core import errors
from jifen.core.roles import SCOPES
from jifen.integrations import selectors, services
from jifen.integrations.models import ApiKey


class Command(BaseCommand):
    help = "Create, list and revoke API keys for systems."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it (shown only once).")
        create.add_argument("--name", required=True)
        create.add_argument("--scope", action="append", required=True, choices=SCOPES,
                            dest="scopes")
        sub.add_parser("list", help="List keys.")
        revoke = sub.add_parser("revoke", help="Revoke the key with this prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                key, plain = services.create_api_key(
                    name=options["name"], scopes=options["scopes"], actor=None
                )
                self.stderr.write(
                    f"Created API key {key.name!r} (prefix {key.prefix}) with scopes "
                    f"{', '.join(key.scopes)}. Store it now; it is not shown again."
                )
                self.stdout.write(plain)
            elif action == "list":
                for key in selectors.api_keys():
                    state = "revoked" if key.revoked_at else "active"
                    self.stdout.write(f"{key.prefix}\t{state}\t{key.name}\t{','.join(key.scopes)}")
            elif action == "revoke":
                key = ApiKey.objects.filter(prefix=options["prefix"]).first()
                if key is None:
                    raise CommandError(f"No API key with prefix {options['prefix']}")
                services.revoke_api_key(key=key, actor=None)
                self.stdout.write(f"Revoked {key.prefix}")
        except errors.JifenError as exc:
            raise CommandError(exc.message) from exc
