"""Console actions of the earning app → their API twins (see test_console_parity.py)."""

TWINS: dict[str, list[str]] = {
    "approval_decide?decision=approve": ["POST /approvals/{award_id}/approve"],
    "approval_decide?decision=reject": ["POST /approvals/{award_id}/reject"],
    "budgets": ["POST /budgets", "PUT /recognition-allowance"],
    "company_values": ["POST /company-values", "PATCH /company-values/{value_id}"],
    "event_types": ["POST /event-types", "PATCH /event-types/{code}"],
    "rule_create": ["POST /rules", "POST /rules/drafts"],
    "rule_edit": ["PATCH /rules/{rule_id}", "PUT /rules/{rule_id}/draft",
                  "POST /rules/{rule_id}/publish"],
    # The events spreadsheet: the same import job through /imports (kind earning.events).
    "earning_import:start": ["POST /imports/jobs"],
    "earning_import:commit": ["POST /imports/jobs/{job_id}/commit"],
    "earning_import:cancel": ["POST /imports/jobs/{job_id}/cancel"],
    "rule_feedback_answer": ["POST /rule-feedback/{feedback_id}/answer"],
}

NO_API: dict[str, str] = {}
