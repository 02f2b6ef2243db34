"""PostgreSQL only: the database itself refuses a ledger transaction whose entries do not sum
to zero (checked at commit by a deferred constraint trigger, after django-hordak) and any
UPDATE or DELETE of an entry. A second line of defence behind the posting service; other
databases rely on the service and `jifen ledger verify`."""

from django.db import migrations

FORWARD = [
    """
    CREATE OR REPLACE FUNCTION ledger_entry_zero_sum() RETURNS trigger AS $$
    DECLARE total bigint;
    BEGIN
      SELECT COALESCE(SUM(amount), 0) INTO total FROM ledger_entry
        WHERE transaction_id = NEW.transaction_id;
      IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % entries sum to %, not 0',
          NEW.transaction_id, total USING ERRCODE = 'check_violation';
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_entry_zero_sum AFTER INSERT ON ledger_entry
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_zero_sum()
    """,
    """
    CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
    BEGIN
      RAISE EXCEPTION 'ledger entries are append-only; post a reversing transaction'
        USING ERRCODE = 'integrity_constraint_violation';
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
      FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()
    """,
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry",
    "DROP FUNCTION IF EXISTS ledger_entry_append_only()",
    "DROP TRIGGER IF EXISTS ledger_entry_zero_sum ON ledger_entry",
    "DROP FUNCTION IF EXISTS ledger_entry_zero_sum()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
