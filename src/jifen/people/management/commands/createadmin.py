"""`jifen createadmin --username U [--password P]`: a super admin login for a new install,
or a new password for one locked out (which also lifts a pause on its sign-in)."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jifen.core import throttle
from jifen.core.roles import Role
from jifen.people.models import User
from jifen.people.services import set_roles


class Command(BaseCommand):
    help = "Create (or promote) a super admin account."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", help="Asked interactively when left out.")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or getpass.getpass("Password: ")
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=options["username"], defaults={"email": options["email"]}
            )
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user.set_password(password)
            user.is_staff = True
            user.save()
            set_roles(user=user, roles=[Role.SUPER_ADMIN], actor=None)
        # An operator who sets the password here may sign in with it at once, even if
        # guessing had paused the account.
        throttle.forget_account(user.pk)
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} super admin {user.username}")
