"""An index of the lots that still have points, in spending order per wallet. Debits and
the expiry sweep only ever look for those, and most lots end up spent. Partial indexes
exist on PostgreSQL and SQLite; MySQL/MariaDB keep using (wallet, expires_at)."""

from django.db import migrations

CREATE = ("CREATE INDEX ledger_lot_spendable ON ledger_lot (wallet_id, expires_at, earned_at) "
          "WHERE remaining > 0")
DROP = "DROP INDEX IF EXISTS ledger_lot_spendable"


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor in ("postgresql", "sqlite"):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_company_and_employee_accounts")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
