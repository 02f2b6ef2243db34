"""How the audit log names the ledger's objects and the values their snapshots keep as
codes (registered from ``LedgerConfig.ready``; see ``jifen.core.describe``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.core.describe import by_pk, register_object_describer, register_value_describer
from jifen.core.roles import Cap
from jifen.ledger.models import LedgerPolicy, Transaction
from jifen.people.audit_words import employees_by_number


def register() -> None:
    register_object_describer("ledger.transaction", by_pk(
        Transaction, lambda t: _("%(kind)s · transaction %(id)s") % {
            "kind": t.get_kind_display(), "id": t.pk},
        url_name="console:ledger_transaction", capability=Cap.VIEW_LEDGER))
    register_object_describer("ledger.ledgerpolicy", by_pk(
        LedgerPolicy, lambda p: _("Points policy")))
    register_value_describer("ledger.transaction", "employee", employees_by_number)
