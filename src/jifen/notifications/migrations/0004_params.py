"""A notification stores its kind's parameters and is worded when read, in the reader's
language. The words of earlier messages stay where they were (the columns ``title`` and
``body``, named ``stored_title`` and ``stored_body`` in the model) and are shown while
``params`` is null."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_dotted_kinds")]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="params",
            field=models.JSONField(blank=True, null=True),
        ),
        # The columns keep their names; only the model's names for them change.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("notification", "title", "stored_title"),
                migrations.RenameField("notification", "body", "stored_body"),
                migrations.AlterField(
                    model_name="notification",
                    name="stored_title",
                    field=models.CharField(blank=True, db_column="title", max_length=200,
                                           verbose_name="title"),
                ),
                migrations.AlterField(
                    model_name="notification",
                    name="stored_body",
                    field=models.TextField(blank=True, db_column="body", verbose_name="message"),
                ),
            ],
            database_operations=[],
        ),
    ]
