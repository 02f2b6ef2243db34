"""The batch path of event intake: many new events scored together in one transaction,
in a dozen statements, with the same outcome as scoring them one by one."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DataError, IntegrityError, OperationalError, transaction

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.db import insert_objects, is_transient_db_error
from jifen.core.models import ImportJob
from jifen.earning import engine, outcomes, sql
from jifen.earning.models import Award, AwardStatus, Event, EventStatus, RejectReason, Rule
from jifen.earning.services.rules import RuleOutcome, evaluate, refusal
from jifen.earning.services.scoring import (
    Batch,
    EventIn,
    EventResult,
    Rejection,
    existing_events,
    expiry_rule,
    no_match_notes,
    rejection_reason,
    rule_versions,
    set_notes,
    settle_event,
    storable_payload,
)
from jifen.ledger import bulk as ledger_bulk
from jifen.people.models import EmployeeStatus

logger = logging.getLogger(__name__)
BATCH_ATTEMPTS = 3

CapKey = tuple[int, int, str, datetime]  # employee, rule, period, start of the period


@dataclass
class Fresh:
    """An event of the batch whose (source, id) was not seen before."""

    index: int
    raw: EventIn
    source: str
    ext_id: str
    occurred_at: datetime
    rejection: Rejection = ("", [])  # why it cannot be scored at all
    payload_problem: str = ""  # engine.payload_problem, worked out once
    outcomes: list[RuleOutcome] = field(default_factory=list)
    caps: dict[int, dict[CapKey, datetime]] = field(default_factory=dict)  # by rule
    event: Event = field(init=False, repr=False)  # made by ``new_event`` before scoring
    awards: list[Award] = field(default_factory=list)


def score_batch_retrying(fresh: list[Fresh], batch: Batch,
                          existing: dict[tuple[str, str], Event],
                          results: list[EventResult | None], *, actor: Actor, received_by: str,
                          import_job: ImportJob | None, backdate: bool,
                          ) -> tuple[list[int], list[Fresh]]:
    """Score the fresh events together in one transaction. Returns the indexes left for
    scoring one by one — events received concurrently meanwhile, and all of a batch that
    still loses a race on an event's (source, id) or a lock after ``BATCH_ATTEMPTS``
    tries — and the events of a batch the ledger or the database refuses as a whole,
    for the caller to score again in smaller batches, so one bad event never blocks the
    others."""
    if not fresh:
        return [], []
    # What needs no lock is worked out before taking any: concurrent batches for the same
    # people queue on the employees' locks, so the time under them bounds throughput.
    for item in fresh:
        item.payload_problem = engine.payload_problem(
            item.raw.payload if item.raw.payload is not None else {})
        item.rejection = rejection_reason(item.raw, batch, payload_problem=item.payload_problem)
        if not item.rejection[0]:
            employee = batch.employees[item.raw.employee_no]
            event_type = batch.types[item.raw.type]
            assert employee is not None and event_type is not None  # else rejected above
            ctx = batch.context(employee, item.occurred_at)
            item.outcomes = [evaluate(rule, item.raw.payload or {}, ctx, item.occurred_at)
                             for rule in batch.rules.get(event_type.pk, [])]
            item.rejection = refusal(item.outcomes)
            if item.rejection[0]:
                item.outcomes = []
                continue
            item.caps = {o.rule.pk: cap_windows(o.rule, employee.pk, item.occurred_at)
                         for o in item.outcomes if o.matched and o.rule and o.rule.caps}
    nested = transaction.get_connection().in_atomic_block
    problem: Exception | None = None
    later: list[int] = []
    refused: list[Fresh] = []
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        # The caller looked for events already received just before; should one arrive
        # between that read and the insert, its unique key refuses the insert and the
        # batch is tried again after reading again.
        found = {} if attempt == 1 else existing_events({(f.source, f.ext_id)
                                                          for f in fresh})
        existing.update(found)
        later += [f.index for f in fresh if (f.source, f.ext_id) in found]
        fresh = [f for f in fresh if (f.source, f.ext_id) not in found]
        for item in fresh:
            item.event = new_event(item, batch, received_by, import_job)
            item.awards = []
        try:
            with transaction.atomic():
                score_batch(fresh, batch, actor=actor, backdate=backdate)
        except IntegrityError as exc:
            problem = exc  # the same (source, id) arrived concurrently
        except (errors.JifenError, DataError) as exc:
            problem, refused = exc, fresh  # a posting or a value refused: find which event
            break
        except OperationalError as exc:
            # MySQL undoes the whole transaction on a deadlock, not only the savepoint.
            if nested or not is_transient_db_error(exc):
                raise
            problem = exc
            time.sleep(random.uniform(0, 0.05 * attempt))
        else:
            # Only once committed: a batch undone at COMMIT must leave no trace here.
            for item in fresh:
                event = item.event
                existing[(item.source, item.ext_id)] = event
                results[item.index] = EventResult(
                    id=item.ext_id, source=item.source, status=event.status,
                    points=event.points, reason=event.reason, detail=event.detail_words,
                    uncollected=event.uncollected, event_id=event.pk)
            return later, []
    logger.warning("event batch of %d %s: %s", len(fresh),
                   "refused" if refused else "scored one by one", problem)
    existing.update(existing_events({(f.source, f.ext_id) for f in fresh}))
    return (later, refused) if refused else (later + [item.index for item in fresh], [])


def score_batch(todo: list[Fresh], batch: Batch, *, actor: Actor, backdate: bool) -> None:
    """The batch path: what ``ingest_one`` does per event, for many events in a dozen
    statements. Locks every employee of the batch (id order), then their wallets (the
    ledger plan), then the issuance accounts — the global lock order, so concurrent
    batches queue instead of deadlocking. Caps are summed once per employee, rule and
    period and then counted on in memory, exact because the employees stay locked."""
    employee_ids = sorted({e.pk for f in todo if (e := batch.employees.get(f.raw.employee_no))})
    statuses = sql.lock_employees(*employee_ids) if employee_ids else {}
    for item in todo:  # left since the batch was read: as if scored one by one
        event = item.event
        status = statuses.get(event.employee_id, "") if event.employee_id is not None else ""
        if not event.reason and status != EmployeeStatus.ACTIVE:
            event.reason, notes = rejection_reason(item.raw, batch, status=status)
            set_notes(event, notes)
    matched_rules = [o.rule for f in todo for o in f.outcomes if o.matched and o.rule]
    missing = {r.pk: r for r in matched_rules if r.pk not in batch.versions}
    if missing:
        batch.versions.update(rule_versions(missing.values()))
    used = _caps_used(todo)

    postings: list[ledger_bulk.EarningPosting] = []
    posted: list[tuple[Award, int]] = []
    for item in todo:
        event = item.event
        matched = [o for o in item.outcomes if o.matched and o.score is not None]
        if event.reason:
            continue
        if not matched:
            event.status, event.reason = EventStatus.REJECTED, RejectReason.NO_MATCHING_RULE
            set_notes(event, no_match_notes(item.outcomes))
            continue
        for outcome in matched:
            award, units = new_award(item, outcome, batch, used)
            item.awards.append(award)
            if award.status == AwardStatus.CREDITED and units:
                rule = award.rule
                postings.append(ledger_bulk.EarningPosting(
                    employee=event.employee, amount=units, category=rule.category,
                    reason=rule.name[:200], expiry=expiry_rule(rule),
                    earned_at=item.occurred_at if backdate else None,
                    now=item.occurred_at if backdate else None))
                posted.append((award, len(postings) - 1))

    plan = ledger_bulk.plan_earnings(postings)
    for award, index in posted:
        if award.points < 0:
            award.uncollected = plan.results[index].uncollected
            award.points = -plan.results[index].collected
    for item in todo:
        if item.awards:
            set_notes(item.event, [])
            settle_event(item.event, item.awards)
    # In (source, id) order: two batches inserting overlapping ids then wait on each
    # other's unique keys in one order, never in a cycle.
    events = sorted((item.event for item in todo), key=lambda e: (e.source, e.external_id))
    insert_objects(events, key=("source", "external_id"))

    def insert_awards(transaction_ids: list[int | None]) -> None:
        for award, index in posted:
            award.transaction_id = transaction_ids[index]
        insert_objects([a for item in todo for a in item.awards])

    # ``posted[i]`` is posting ``i``; the awards go in before the company accounts are
    # touched, which on PostgreSQL is the last thing before COMMIT.
    plan.write(keys=[f"earning:event:{a.event.pk}:rule:{a.rule_id}" for a, _i in posted],
               causes=[("earning.event", a.event.pk) for a, _i in posted], actor=actor,
               before_company=insert_awards)


def new_event(item: Fresh, batch: Batch, received_by: str, import_job: ImportJob | None) -> Event:
    """The event row, rejected with its reason if it cannot be scored at all."""
    raw = item.raw
    payload = raw.payload if raw.payload is not None else {}
    reason, notes = item.rejection
    return Event(
        source=item.source, external_id=item.ext_id, event_type=batch.types.get(raw.type),
        type_code=str(raw.type or "")[:60], employee=batch.employees.get(raw.employee_no),
        employee_no=str(raw.employee_no or "")[:40], occurred_at=item.occurred_at,
        payload=storable_payload(payload, item.payload_problem), import_job=import_job,
        row_number=raw.row_number,
        received_by=received_by[:150],
        status=EventStatus.REJECTED, reason=reason, notes=outcomes.stored(notes))


def cap_windows(rule: Rule, employee_id: int, occurred_at: datetime,
                 ) -> dict[CapKey, datetime]:
    """The rule's capped periods holding ``occurred_at``: {key: end of the period}."""
    return {(employee_id, rule.pk, period, engine.period_start(period, occurred_at)):
            engine.period_end(period, occurred_at) for period in rule.caps}


def _caps_used(items: list[Fresh]) -> dict[CapKey, int]:
    """Units already credited per employee, capped rule and period of the batch's events
    (``sql.credited_in_windows``)."""
    wanted: dict[CapKey, datetime] = {}
    for item in items:
        for windows in item.caps.values():
            wanted.update(windows)
    keys = list(wanted)
    totals = sql.credited_in_windows([(k[0], k[1], k[3], wanted[k]) for k in keys])
    return dict(zip(keys, totals, strict=True))


def new_award(item: Fresh, outcome: RuleOutcome, batch: Batch,
               used: dict[CapKey, int]) -> tuple[Award, int]:
    """The award one matched rule gives the event, and the units to post (counted
    against the caps in ``used`` at once)."""
    rule, scored, event = outcome.rule, outcome.score, item.event
    assert rule is not None and scored is not None
    award = Award(event=event, rule=rule, rule_version=batch.versions[rule.pk],
                  employee=event.employee, category=rule.category,
                  occurred_at=item.occurred_at,
                  notes=outcomes.stored([outcome.note or outcomes.text(outcome.why)]),
                  status=AwardStatus.PENDING)
    if scored.is_range or rule.requires_approval:
        low = scored.low if scored.low is not None else scored.points
        high = scored.high if scored.high is not None else scored.points
        award.min_points, award.max_points = low * batch.scale, high * batch.scale
        award.approver_role = rule.approver_role
        return award, 0
    units = scored.points * batch.scale
    if units > 0 and rule.caps:
        keys = list(item.caps[rule.pk])
        room = min(rule.caps[key[2]] * batch.scale - used.get(key, 0) for key in keys)
        if room <= 0:
            award.status = AwardStatus.CAPPED
            return award, 0
        if units > room:
            award.notes = [*award.notes, outcomes.note("cut_to_cap").as_json()]
            units = room
        for key in keys:
            used[key] = used.get(key, 0) + units
    award.status, award.points = AwardStatus.CREDITED, units
    return award, units
