"""Awards, manager awards and thanks in words for the ledger's history
(``jifen.ledger.hooks``): the ledger cannot import earning, so earning registers these
describers in its ``AppConfig.ready()``. One query per type of cause."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.earning.models import Award, ManagerAward, Recognition
from jifen.ledger.hooks import CauseInfo, register_cause_describer


def _pks(ids: list[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def describe_events(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """An event's credited awards as "Award: <rule name>" (a penalty: "Penalty: …")."""
    rules: dict[int, list[tuple[str, int]]] = {}
    awards = (Award.objects.filter(event_id__in=_pks(ids), transaction__isnull=False)
              .order_by("pk").values_list("event_id", "rule__name", "points"))
    for event_id, rule, points in awards:
        rules.setdefault(event_id, []).append((rule, points))
    found = {}
    for event_id, given in rules.items():
        names = ", ".join(dict.fromkeys(name for name, _points in given))
        penalty = all(points < 0 for _name, points in given)
        label = (_("Penalty: %(rule)s") if penalty else _("Award: %(rule)s")) % {"rule": names}
        found[str(event_id)] = CauseInfo(label=label)
    return found


def describe_manager_awards(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """"Award from <manager>: <message>"."""
    awards = (ManagerAward.objects.filter(pk__in=_pks(ids)).order_by()
              .values_list("pk", "manager__name", "message"))
    return {str(pk): CauseInfo(label=_("Award from %(manager)s: %(message)s")
                               % {"manager": manager, "message": message})
            for pk, manager, message in awards}


def describe_recognitions(ids: list[str], *, for_employee: bool) -> dict[str, CauseInfo]:
    """"Thanks from <colleague>: <message>"."""
    gifts = (Recognition.objects.filter(pk__in=_pks(ids)).order_by()
             .values_list("pk", "giver__name", "message"))
    return {str(pk): CauseInfo(label=_("Thanks from %(giver)s: %(message)s")
                               % {"giver": giver, "message": message})
            for pk, giver, message in gifts}


def register() -> None:
    """Fill the ledger's slots for earning's causes (from ``EarningConfig.ready()``)."""
    register_cause_describer("earning.event", describe_events)
    register_cause_describer("earning.manageraward", describe_manager_awards)
    register_cause_describer("earning.recognition", describe_recognitions)
