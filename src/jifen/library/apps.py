from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibraryConfig(AppConfig):
    name = "jifen.library"
    label = "library"
    verbose_name = _("Library")

    def ready(self) -> None:
        # Imported here: they read models, which the app registry must have loaded first.
        from jifen.library import audit_words_engagement, targets

        targets.register_builtin_targets()
        audit_words_engagement.register()
