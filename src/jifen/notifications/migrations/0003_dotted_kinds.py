"""Notification kinds are dotted names of the sending app (``jifen.notifications.kinds``):
the one kind stored without its app gets it."""

from django.db import migrations

RENAMED = {"points_expiring": "ledger.points_expiring"}


def rename(apps, schema_editor, mapping=RENAMED):
    Notification = apps.get_model("notifications", "Notification")
    for old, new in mapping.items():
        Notification.objects.filter(kind=old).update(kind=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_emailed_at")]
    operations = [migrations.RunPython(rename, rename_back)]
