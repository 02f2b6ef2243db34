"""Uploaded spreadsheets move out of MEDIA_ROOT, which is served to anyone, into the
private "imports" storage; new ones get names nobody can guess."""

from django.core.files.storage import storages
from django.db import migrations, models

import jifen.core.models


def move_to_private_storage(apps, schema_editor):
    public, private = storages["default"], storages["imports"]
    ImportJob = apps.get_model("core", "ImportJob")
    for name in ImportJob.objects.exclude(file="").values_list("file", flat=True):
        if public.exists(name) and not private.exists(name):
            with public.open(name, "rb") as handle:
                private.save(name, handle)
        if public.exists(name):
            public.delete(name)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_periodic_run")]

    operations = [
        migrations.AlterField(
            model_name="importjob",
            name="file",
            field=models.FileField(max_length=300, storage=jifen.core.models.import_storage,
                                   upload_to=jifen.core.models.import_file_name,
                                   verbose_name="file"),
        ),
        migrations.RunPython(move_to_private_storage, migrations.RunPython.noop),
    ]
