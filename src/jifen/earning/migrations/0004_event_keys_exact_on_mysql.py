"""On MySQL/MariaDB, compare an event's (source, id) exactly, as PostgreSQL and SQLite do.

The default utf8mb4_unicode_ci collation made "ABC" and "abc" the same event to the
unique key while the code (and the other databases) told them apart, so such ids failed
a whole batch's insert. Event ids are opaque keys from other systems: binary collation.
"""

from django.db import migrations

COLUMNS = (("source", 60), ("external_id", 120))


def collate(collation: str):
    """A migration step giving the event's key columns ``collation`` on MySQL/MariaDB."""

    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "mysql":
            return
        table = schema_editor.quote_name("earning_event")
        changes = ", ".join(
            f"MODIFY {schema_editor.quote_name(name)} varchar({length}) "
            f"CHARACTER SET utf8mb4 COLLATE {collation} NOT NULL" for name, length in COLUMNS)
        schema_editor.execute(f"ALTER TABLE {table} {changes}")

    return run


class Migration(migrations.Migration):
    atomic = False  # MySQL cannot run DDL inside a transaction
    dependencies = [("earning", "0003_event_award_plain_indexes")]
    operations = [migrations.RunPython(collate("utf8mb4_bin"), collate("utf8mb4_unicode_ci"),
                                       atomic=False)]
