"""Earning writers: event types, rules and their versions, event intake, approvals,
department budgets, peer recognition, rule feedback — one module each, their public names
re-exported here (callers write ``from jifen.earning import services``).

Points move only through ``jifen.ledger.services`` (``credit``, ``penalize``,
``fund_budget``); each award's ledger idempotency key is derived from the award's id, so a
retried posting never pays twice. Scoring for one employee is serialised by a row lock on
the employee (``jifen.earning.sql.lock_employees``, taken before the ledger locks the
wallet, always in that order), which is what keeps caps and giving allowances exact under
concurrency.
"""

from __future__ import annotations

from jifen.earning.services.approvals import approve_award, can_decide, reject_award
from jifen.earning.services.budgets import award_from_budget, fund_department_budget
from jifen.earning.services.common import current_period
from jifen.earning.services.event_types import (
    create_event_type,
    ensure_builtin_event_types,
    update_event_type,
)
from jifen.earning.services.feedback import answer_rule_feedback, send_rule_feedback
from jifen.earning.services.intake import (
    MAX_BATCH,
    SCORED_ALONE_UP_TO,
    ingest_events,
    ingest_many,
    row_event_id,
)
from jifen.earning.services.intake_batch import BATCH_ATTEMPTS
from jifen.earning.services.recognition import (
    DEFAULT_COMPANY_VALUES,
    allowance_left,
    create_company_value,
    earning_settings,
    ensure_company_values,
    give_recognition,
    update_company_value,
    update_earning_settings,
)
from jifen.earning.services.rules import (
    RULE_FIELDS,
    RuleOutcome,
    condition_in_words,
    create_rule,
    evaluate,
    normalize_rule,
    preview_rule,
    publish_rule,
    rule_snapshot,
    save_rule_draft,
    update_rule,
)
from jifen.earning.services.scoring import RETRYABLE_REASONS, EventIn, EventResult

__all__ = [
    "BATCH_ATTEMPTS", "DEFAULT_COMPANY_VALUES", "MAX_BATCH", "RETRYABLE_REASONS",
    "RULE_FIELDS", "SCORED_ALONE_UP_TO", "EventIn", "EventResult", "RuleOutcome",
    "allowance_left", "answer_rule_feedback", "approve_award", "award_from_budget",
    "can_decide", "condition_in_words", "create_company_value", "create_event_type",
    "create_rule", "current_period", "earning_settings", "ensure_builtin_event_types",
    "ensure_company_values", "evaluate", "fund_department_budget", "give_recognition",
    "ingest_events", "ingest_many", "normalize_rule", "preview_rule", "publish_rule",
    "reject_award", "row_event_id", "rule_snapshot", "save_rule_draft", "send_rule_feedback",
    "update_company_value", "update_earning_settings",
    "update_event_type", "update_rule",
]
