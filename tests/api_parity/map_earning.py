"""Console actions of the earning app → their API twins (see test_console_parity.py).

Left out on purpose, so the parity test names them: earning_import:start, :commit and
:cancel (the events spreadsheet import has no API job yet)."""

TWINS: dict[str, list[str]] = {
    "approval_decide?decision=approve": ["POST /approvals/{award_id}/approve"],
    "approval_decide?decision=reject": ["POST /approvals/{award_id}/reject"],
    "budgets": ["POST /budgets", "PUT /recognition-allowance"],
    "company_values": ["POST /company-values", "PATCH /company-values/{value_id}"],
    "event_types": ["POST /event-types", "PATCH /event-types/{code}"],
    "rule_create": ["POST /rules", "POST /rules/drafts"],
    "rule_edit": ["PATCH /rules/{rule_id}", "PUT /rules/{rule_id}/draft",
                  "POST /rules/{rule_id}/publish"],
    "rule_feedback_answer": ["POST /rule-feedback/{feedback_id}/answer"],
}

NO_API: dict[str, str] = {}
