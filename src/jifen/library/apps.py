"""The library and engagement: paid downloads, daily check-in, comments, ratings and shares
that earn (DESIGN.md §5)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "jifen.library"
    label = "library"
    verbose_name = _("Library")

    def ready(self) -> None:
        # Imported here: they read models, which the app registry must have loaded first.
        from jifen.library import (
            audit_words,
            audit_words_engagement,
            describe,
            notices,  # noqa: F401 (registers its notification kinds)
            targets,
        )

        audit_words.register()
        audit_words_engagement.register()
        describe.register()
        targets.register_builtin_targets()
