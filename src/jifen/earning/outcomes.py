"""What became of an event, and why, as codes with parameters — rendered when read, in
the reader's language. Words written at scoring time would stay in the language of that
moment ("条件不成立" on an English page) for ever.

A note is ``{"code": …, "params": {…}}`` and, when it is about one rule, ``"rule"``: the
rule's name as it was then. Events keep their notes in ``Event.notes``, awards theirs in
``Award.notes``; rows stored before notes existed keep their text (``detail``,
``explanation``) and show it as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_noop

# code → (message id, the name of its one %s parameter) or (message id, None) for a
# message with named parameters (or none). The ids are the engine's and services' own
# messages, so their translations are shared.
MESSAGES: dict[str, tuple[str, str | None]] = {
    "not_yet_valid": (gettext_noop("The rule is not yet valid then."), None),
    "ended": (gettext_noop("The rule had ended by then."), None),
    "condition_false": (gettext_noop("The condition is false."), None),
    "condition_error": (gettext_noop("The condition could not be evaluated: %s"), "error"),
    "condition_not_bool": (gettext_noop("The condition must give true or false."), None),
    "no_number": (gettext_noop("The payload has no number in %s."), "field"),
    "too_large": (gettext_noop(
        "%(field)s = %(units)s gives more than the %(max)s points the ledger can post."), None),
    "no_table_entry": (gettext_noop("No points are listed for %(field)s = %(value)s."), None),
    "fixed": (gettext_noop("%(points)+d fixed"), None),
    "per_unit": (gettext_noop("%(units)s × %(per)d per %(field)s"), None),
    "table": (gettext_noop("%(field)s = %(value)s → %(points)+d"), None),
    "range": (gettext_noop("%(min)d–%(max)d, settled by an approver"), None),
    "cut_to_cap": (gettext_noop("(cut to the cap)"), None),
    "unknown_event_type": (gettext_noop("Unknown event type %s."), "type"),
    "unknown_employee": (gettext_noop("No employee has the number %s."), "employee_no"),
    "employee_left": (gettext_noop("Employee %s has left."), "employee_no"),
    "value_out_of_range": (gettext_noop("A value is too long or out of range."), None),
}
# A message from elsewhere that has no code (a schema's complaint about a payload, a
# refusal from the ledger): kept as given.
TEXT = "text"


@dataclass(frozen=True)
class Note:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    rule: str = ""

    def about(self, rule_name: str) -> Note:
        return Note(self.code, self.params, rule_name)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code}
        if self.params:
            data["params"] = self.params
        if self.rule:
            data["rule"] = self.rule
        return data

    def __str__(self) -> str:
        text = render(self.code, self.params)
        return f"{self.rule}: {text}" if self.rule else text


def note(code: str, **params: Any) -> Note:
    return Note(code, params)


def text(message: Any) -> Note:
    """A message that has no code, kept as it is."""
    return Note(TEXT, {"text": str(message)[:500]})


def render(code: str, params: dict[str, Any] | None = None) -> str:
    """One note's words in the active language; an unknown code shows itself."""
    params = params or {}
    if code == TEXT:
        return str(params.get("text", ""))
    if code not in MESSAGES:
        return code
    message, positional = MESSAGES[code]
    try:
        if positional is not None:
            return gettext(message) % params.get(positional, "")
        return gettext(message) % params if params else gettext(message)
    except (KeyError, TypeError, ValueError):  # parameters that do not fit: say the code
        return code


def render_notes(notes: Any, *, separator: str = "; ") -> str:
    """Stored notes (JSON) in words, joined."""
    if not isinstance(notes, list):
        return ""
    return separator.join(str(from_json(n)) for n in notes if isinstance(n, dict))


def from_json(data: dict[str, Any]) -> Note:
    params = data.get("params")
    return Note(str(data.get("code", "")), params if isinstance(params, dict) else {},
                str(data.get("rule", "")))


def stored(notes: list[Note]) -> list[dict[str, Any]]:
    """Notes as an event or award keeps them (bounded, as ``detail`` was to 500)."""
    kept, size = [], 0
    for one in notes:
        data = one.as_json()
        size += len(str(data))
        if size > 4000:
            break
        kept.append(data)
    return kept
