"""Open every company account (issuance per category, the sinks) and each existing
employee's wallet and hold, so postings find their accounts instead of racing to create
them."""

from django.db import migrations

CATEGORIES = ["performance", "learning", "teamwork", "culture", "attendance", "engagement"]
SINKS = ["redemption", "expiry", "forfeiture", "activities", "adjustment"]


def open_accounts(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    Employee = apps.get_model("people", "Employee")
    accounts = [Account(code=f"issuance:{c}", kind="issuance", category=c, may_go_negative=True)
                for c in CATEGORIES]
    accounts += [Account(code=f"sink:{k}", kind=k, may_go_negative=True) for k in SINKS]
    for employee_id in Employee.objects.values_list("pk", flat=True).iterator():
        accounts.append(Account(code=f"wallet:e:{employee_id}", kind="wallet",
                                employee_id=employee_id))
        accounts.append(Account(code=f"hold:e:{employee_id}", kind="hold",
                                employee_id=employee_id))
    Account.objects.bulk_create(accounts, ignore_conflicts=True, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_postgresql_guards"), ("people", "0001_initial")]
    operations = [migrations.RunPython(open_accounts, migrations.RunPython.noop)]
