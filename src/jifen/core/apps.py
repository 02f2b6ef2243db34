from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from jifen.core import checks  # noqa: F401 - registers the system checks


class CoreConfig(AppConfig):
    name = "jifen.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Here, not at the top: services import models, and the app registry is not ready
        # when this module is imported.
        from jifen.core import audit_words
        from jifen.core.observability import tasklog  # noqa: F401 - connects the task log
        from jifen.core.services import sync_role_groups

        audit_words.register()

        post_migrate.connect(sync_role_groups, sender=self)
        post_migrate.connect(create_cache_tables, sender=self)


def create_cache_tables(using: str = "default", **kwargs: object) -> None:
    """The table of the database cache (failed sign-ins without Redis), after every
    migrate; Django's migrations do not create it."""
    call_command("createcachetable", database=using, verbosity=0)
