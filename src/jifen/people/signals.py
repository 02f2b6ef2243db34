"""What people's services announce, so apps that keep per-employee state (the ledger's
wallets, a leaver's points) react without people depending on them. Sent inside the
service's transaction: a receiver's writes commit or roll back with the change."""

from django.dispatch import Signal

# employee_ids: list[int] — employees created in bulk (bulk_create sends no post_save).
employees_created = Signal()
# employee: Employee, actor — an employee's status just became "left".
employee_left = Signal()
