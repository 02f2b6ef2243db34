from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo company generator; an app only so that `jifen demo` is its command."""

    name = "jifen.demo"
    label = "demo"
    verbose_name = _("Demo company")
