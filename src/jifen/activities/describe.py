"""Lottery entries and prizes in words for the ledger's history (``jifen.ledger.hooks``):
the ledger cannot import activities, so this app registers its describers in
``ActivitiesConfig.ready()``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from jifen.activities.models import Entry, EntryStatus, Win
from jifen.core.roles import Cap
from jifen.ledger.hooks import CauseInfo, register_cause_describer


def _pks(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def describe_entries(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """An entry's cost: "Lottery entry: 年会抽奖", its points back when cancelled."""
    found = {}
    for entry in Entry.objects.filter(pk__in=_pks(ids)).select_related("lottery"):
        lottery = entry.lottery
        found[str(entry.pk)] = CauseInfo(
            label=_("Lottery entry: %(title)s") % {"title": lottery.title},
            status_label=str(entry.get_status_display()),
            return_label=(_("Refund of a lottery entry: %(title)s (cancelled)")
                          % {"title": lottery.title}
                          if entry.status == EntryStatus.REFUNDED else
                          _("Refund of a lottery entry: %(title)s") % {"title": lottery.title}),
            url_for_employee=reverse("portal:lottery", args=[lottery.pk]),
            url_for_console=reverse("console:activities_lottery", args=[lottery.pk]),
            console_cap=Cap.MANAGE_ACTIVITIES,
        )
    return found


def describe_wins(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """A points prize: "Lottery prize: 一等奖 (年会抽奖)"."""
    found = {}
    for win in Win.objects.filter(pk__in=_pks(ids)).select_related("lottery", "tier"):
        found[str(win.pk)] = CauseInfo(
            label=_("Lottery prize: %(prize)s (%(title)s)") % {"prize": win.tier.name,
                                                               "title": win.lottery.title},
            url_for_employee=reverse("portal:lottery", args=[win.lottery_id]),
            url_for_console=reverse("console:activities_lottery", args=[win.lottery_id]),
            console_cap=Cap.MANAGE_ACTIVITIES,
        )
    return found


def register() -> None:
    register_cause_describer("activities.entry", describe_entries)
    register_cause_describer("activities.win", describe_wins)
