"""How the audit log names the activities' objects (registered from
``ActivitiesConfig.ready``; see ``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.activities.models import Lottery
from jifen.core.describe import by_pk, register_object_describer
from jifen.core.roles import Cap


def register() -> None:
    register_object_describer("activities.lottery", by_pk(
        Lottery, lambda lottery: _("Lottery %(title)s") % {"title": lottery.title},
        url_name="console:activities_lottery", capability=Cap.MANAGE_ACTIVITIES,
        name=lambda lottery: lottery.title))
