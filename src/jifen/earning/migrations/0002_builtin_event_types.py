"""The built-in event types and default company values, as data."""

from django.db import migrations


def forwards(apps, schema_editor):
    from jifen.earning.builtins import BUILTIN_EVENT_TYPES
    from jifen.earning.services import DEFAULT_COMPANY_VALUES

    EventType = apps.get_model("earning", "EventType")
    CompanyValue = apps.get_model("earning", "CompanyValue")
    existing = set(EventType.objects.values_list("code", flat=True))
    EventType.objects.bulk_create([
        EventType(code=code, name=seed.name, description=seed.description, schema=seed.schema,
                  builtin=True)
        for code, seed in BUILTIN_EVENT_TYPES.items() if code not in existing
    ])
    if not CompanyValue.objects.exists():
        CompanyValue.objects.bulk_create(
            [CompanyValue(name=n, position=i) for i, n in enumerate(DEFAULT_COMPANY_VALUES)])


def backwards(apps, schema_editor):
    apps.get_model("earning", "EventType").objects.filter(builtin=True, rules__isnull=True,
                                                          events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("earning", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
