# Order reasons and timeline notes stored as codes, rendered in the reader's language.

from django.db import migrations, models

# The words the services used to store, in both languages the site speaks, → the code
# that replaces them. Anything else was typed by a person and stays as it is.
KNOWN = {
    "Cancelled by the employee": "cancelled_by_employee", "员工已取消": "cancelled_by_employee",
    "Cancelled by the mall": "cancelled_by_mall", "商城已取消": "cancelled_by_mall",
    "Approved automatically": "auto_approved", "已自动审批": "auto_approved",
}
SWITCHED = ("Switched to ", "已更换为 ")
ENGLISH = {
    "cancelled_by_employee": "Cancelled by the employee",
    "cancelled_by_mall": "Cancelled by the mall",
    "auto_approved": "Approved automatically", "switched": "Switched to another item",
}


def _code(text):
    if text in KNOWN:
        return KNOWN[text]
    return "switched" if text.startswith(SWITCHED) else ""


def to_codes(apps, schema_editor):
    """Texts stored in the language of the moment become codes: blank the text, set the
    code (in batches by text, so a large table is a few UPDATEs)."""
    for model, text, code in (("Order", "reason", "reason_code"),
                              ("OrderEvent", "note", "note_code")):
        rows = apps.get_model("mall", model).objects
        stored = rows.exclude(**{text: ""}).values_list(text, flat=True).distinct()
        for value in list(stored.filter(**{f"{text}__in": list(KNOWN)})) + list(
                stored.filter(**{f"{text}__startswith": SWITCHED[0]})) + list(
                stored.filter(**{f"{text}__startswith": SWITCHED[1]})):
            if found := _code(value):
                rows.filter(**{text: value}).update(**{text: "", code: found})


def to_texts(apps, schema_editor):
    """Back: the codes as English text."""
    for model, text, code in (("Order", "reason", "reason_code"),
                              ("OrderEvent", "note", "note_code")):
        rows = apps.get_model("mall", model).objects
        for found, words in ENGLISH.items():
            rows.filter(**{code: found, text: ""}).update(**{text: words})


class Migration(migrations.Migration):

    dependencies = [
        ('mall', '0002_fulfilment_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='reason_code',
            field=models.CharField(blank=True, choices=[('cancelled_by_employee', 'Cancelled by the employee'), ('cancelled_by_mall', 'Cancelled by the mall'), ('switched', 'Switched to another item'), ('auto_approved', 'Approved automatically')], max_length=30, verbose_name='reason'),
        ),
        migrations.AddField(
            model_name='orderevent',
            name='note_code',
            field=models.CharField(blank=True, choices=[('cancelled_by_employee', 'Cancelled by the employee'), ('cancelled_by_mall', 'Cancelled by the mall'), ('switched', 'Switched to another item'), ('auto_approved', 'Approved automatically')], max_length=30),
        ),
        migrations.RunPython(to_codes, to_texts),
    ]
