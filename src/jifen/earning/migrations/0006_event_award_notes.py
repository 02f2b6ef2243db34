# Events and awards say why as codes with parameters (jifen.earning.outcomes), rendered in
# the reader's language; an event's detail stored in words becomes notes where every part
# of it is a known message, in either language the site speaks.

import re

from django.db import migrations, models

# The stored words (English, Chinese) of the messages without parameters → their codes.
PLAIN = {
    "The rule is not yet valid then.": "not_yet_valid", "规则在该时间尚未生效。": "not_yet_valid",
    "The rule had ended by then.": "ended", "规则在该时间已失效。": "ended",
    "The condition is false.": "condition_false", "条件不成立。": "condition_false",
    "The condition must give true or false.": "condition_not_bool",
    "条件的结果必须是 true 或 false。": "condition_not_bool",
}
# Messages with one parameter, as patterns over the whole detail.
WITH_ONE = [
    (re.compile(r"^Unknown event type (.*)\.$|^未知的事件类型 (.*)。$", re.S),
     "unknown_event_type", "type"),
    (re.compile(r"^No employee has the number (.*)\.$|^没有工号为 (.*) 的员工。$", re.S),
     "unknown_employee", "employee_no"),
    (re.compile(r"^Employee (.*) has left\.$|^员工 (.*) 已离职。$", re.S),
     "employee_left", "employee_no"),
]


def _notes(detail):
    """The notes a stored detail says, or None when some part of it is not known."""
    for pattern, code, name in WITH_ONE:
        if found := pattern.match(detail):
            return [{"code": code, "params": {name: found.group(1) or found.group(2)}}]
    notes = []
    for part in detail.split("; "):
        for words, code in PLAIN.items():
            if part == words or part.endswith(": " + words):
                note = {"code": code}
                if part != words:
                    note["rule"] = part[: -len(words) - 2]
                notes.append(note)
                break
        else:
            return None
    return notes


def to_notes(apps, schema_editor):
    Event = apps.get_model("earning", "Event")
    changed = []
    for event in Event.objects.exclude(detail="").only("pk", "detail", "notes").iterator(
            chunk_size=2000):
        notes = _notes(event.detail)
        if notes:
            event.notes, event.detail = notes, ""
            changed.append(event)
        if len(changed) >= 1000:
            Event.objects.bulk_update(changed, ["notes", "detail"])
            changed = []
    if changed:
        Event.objects.bulk_update(changed, ["notes", "detail"])


class Migration(migrations.Migration):

    dependencies = [
        ('earning', '0005_builtin_event_type_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='award',
            name='notes',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='event',
            name='notes',
            field=models.JSONField(blank=True, default=list, verbose_name='detail'),
        ),
        migrations.RunPython(to_notes, migrations.RunPython.noop),
    ]
