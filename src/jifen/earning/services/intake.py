"""Event intake: ``ingest_events`` and ``ingest_many``, which send new events down the
batch path (``intake_batch``) and score here, one by one, what that path leaves — events
sent again, repeats within a request, and the few events of a batch refused as a whole.

Scoring for one employee is serialised by a row lock on the employee
(``sql.lock_employees``), taken before the ledger locks the wallet, always in that order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.intake import Fact, FactResult
from jifen.core.models import ImportJob
from jifen.core.observability import metrics
from jifen.earning import engine, sql
from jifen.earning import outcomes as outcomes_
from jifen.earning.models import Award, AwardStatus, Event, EventStatus, RejectReason
from jifen.earning.services.award_notices import tell_about_awards
from jifen.earning.services.common import scale
from jifen.earning.services.intake_batch import Fresh, score_batch_retrying
from jifen.earning.services.rules import evaluate, refusal
from jifen.earning.services.scoring import (
    Batch,
    EventIn,
    EventResult,
    cap_room,
    existing_events,
    no_match_notes,
    parse_event,
    payload_rejection,
    post_award,
    rejection_reason,
    retryable,
    rule_versions,
    set_notes,
    settle_event,
    storable_payload,
)

MAX_BATCH = 1000
SCORED_ALONE_UP_TO = 8  # a refused batch of more events is scored again in halves


def score_event(event: Event, batch: Batch, *, actor: Actor, now: datetime | None) -> None:
    """Find the rules an accepted event matches and award what each gives."""
    employee = event.employee
    assert employee is not None and event.event_type is not None  # and locked by the caller
    ctx = batch.context(employee, event.occurred_at)
    outcomes = [evaluate(rule, event.payload, ctx, event.occurred_at)
                for rule in batch.rules.get(event.event_type.pk, [])]
    reason, notes = refusal(outcomes)
    if reason:
        event.status, event.reason = EventStatus.REJECTED, reason
        set_notes(event, notes)
        return
    matched = [o for o in outcomes if o.matched and o.score is not None]
    if not matched:
        event.status, event.reason = EventStatus.REJECTED, RejectReason.NO_MATCHING_RULE
        set_notes(event, no_match_notes(outcomes))
        return
    missing = [o.rule for o in matched if o.rule and o.rule.pk not in batch.versions]
    if missing:
        batch.versions.update(rule_versions(missing))
    awards = []
    for outcome in matched:
        rule, scored = outcome.rule, outcome.score
        assert rule is not None and scored is not None
        award = Award(event=event, rule=rule, rule_version=batch.versions[rule.pk],
                      employee=employee,
                      category=rule.category, occurred_at=event.occurred_at,
                      notes=outcomes_.stored([outcome.note or outcomes_.text(outcome.why)]),
                      status=AwardStatus.PENDING)
        if scored.is_range or rule.requires_approval:
            low = scored.low if scored.low is not None else scored.points
            high = scored.high if scored.high is not None else scored.points
            award.min_points, award.max_points = low * scale(), high * scale()
            award.approver_role = rule.approver_role
            award.save()
            awards.append(award)
            continue
        units = scored.points * scale()
        if units > 0 and rule.caps:
            room = cap_room(rule, employee.pk, event.occurred_at)
            if room is not None and room <= 0:
                award.status = AwardStatus.CAPPED
                award.save()
                awards.append(award)
                continue
            if room is not None and units > room:
                award.notes = [*award.notes, outcomes_.note("cut_to_cap").as_json()]
                units = room
        post_award(award, rule, employee, units, actor=actor, now=now)
        award.save()
        awards.append(award)
    set_notes(event, [])
    settle_event(event, awards)


def ingest_one(raw: EventIn, batch: Batch, existing: dict[tuple[str, str], Event], *,
                actor: Actor, received_by: str, import_job: ImportJob | None, now: datetime | None,
                ) -> EventResult:
    source, ext_id = str(raw.source or "").strip(), str(raw.id or "").strip()
    result = EventResult(id=ext_id, source=source, status=EventStatus.REJECTED)
    occurred_at, problem = parse_event(raw)
    if problem:
        result.reason, result.detail = RejectReason.INVALID, problem
        return result
    assert occurred_at is not None
    event = existing.get((source, ext_id))
    if event is not None and not retryable(event):
        return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                           points=event.points, event_id=event.pk)
    event_type = batch.types.get(raw.type)
    employee = batch.employees.get(raw.employee_no)
    payload = raw.payload if raw.payload is not None else {}
    # The payload and schema checks need no lock: done before taking the employee's.
    payload_problem = engine.payload_problem(payload)
    checked = payload_rejection(raw, batch, payload_problem)
    try:
        with transaction.atomic():
            if event is None:
                event = Event(source=source, external_id=ext_id)
            else:
                event = Event.objects.select_for_update().get(pk=event.pk)
                if not retryable(event):
                    return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                                       points=event.points, event_id=event.pk)
                event.awards.all().delete()  # capped awards only: nothing was posted
            event.event_type, event.type_code = event_type, str(raw.type or "")[:60]
            event.employee, event.employee_no = employee, str(raw.employee_no or "")[:40]
            event.occurred_at = occurred_at
            event.payload = storable_payload(payload, payload_problem)
            event.import_job, event.row_number = import_job, raw.row_number
            event.received_by = received_by[:150]
            event.status, event.reason = EventStatus.REJECTED, ""
            set_notes(event, [])
            event.points = event.uncollected = 0
            status = None
            if employee is not None:
                # Before the insert: on MySQL the insert's foreign-key check takes a shared
                # lock on the employee, and upgrading it later deadlocks with a twin.
                status = sql.lock_employees(employee.pk).get(employee.pk, "")
            event.reason, notes = rejection_reason(raw, batch, status=status, checked=checked)
            set_notes(event, notes)
            event.save()
            if not event.reason:
                score_event(event, batch, actor=actor, now=now)
                event.save(update_fields=["status", "reason", "detail", "notes", "points",
                                          "uncollected", "updated_at"])
    except errors.JifenError as exc:
        # Refused further down (e.g. by the ledger): this event only, nothing of it kept.
        return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                           reason=RejectReason.INVALID, detail=exc.message[:500])
    except DataError:
        # A value the database refuses (PostgreSQL: a NUL character in the payload).
        return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                           reason=RejectReason.INVALID,
                           detail=_("A value is too long or out of range."))
    except IntegrityError:
        # The same (source, id) arrived concurrently or earlier in this batch.
        first = Event.objects.filter(source=source, external_id=ext_id).first()
        if first is None:  # no: a value the database refused (a CHECK constraint)
            return EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                               reason=RejectReason.INVALID,
                               detail=_("A value is too long or out of range."))
        return EventResult(id=ext_id, source=source, status=EventStatus.DUPLICATE,
                           points=first.points if first else 0,
                           event_id=first.pk if first else None)
    existing[(source, ext_id)] = event
    return EventResult(id=ext_id, source=source, status=event.status, points=event.points,
                       reason=event.reason, detail=event.detail_words,
                       uncollected=event.uncollected,
                       event_id=event.pk)


def ingest_events(*, events: list[EventIn], actor: Actor = None, received_by: str = "",
                  import_job: ImportJob | None = None, backdate: bool = False) -> list[EventResult]:
    """Score each event at once and answer per event: ``credited`` (points), ``pending_approval``,
    ``duplicate`` or ``rejected`` with a reason. Events are unique by (source, id); one bad
    event never blocks the others. New events are scored together in one transaction (a
    savepoint inside a caller's): a batch the database or the ledger refuses as a whole is
    scored again in halves, each a batch of its own, down to a few events scored one by
    one; every event is fully applied or not at all.
    ``backdate`` posts each credit at the time the event occurred (demo history and
    back-fills)."""
    if len(events) > MAX_BATCH:
        raise errors.ValidationError(_("Send at most %d events per call.") % MAX_BATCH,
                                     code=errors.ErrorCode.BATCH_TOO_LARGE)
    results = _ingest(events, actor=actor, received_by=received_by, import_job=import_job,
                      backdate=backdate)
    metrics.count_events(result.status for result in results)  # /metrics: events by status
    return results


def ingest_many(*, events: list[EventIn], actor: Actor = None, received_by: str = "",
                import_job: ImportJob | None = None, backdate: bool = False,
                after_chunk: Callable[[list[EventIn], list[EventResult]], None] | None = None,
                ) -> list[EventResult]:
    """``ingest_events`` for any number of events (spreadsheets, the demo), scored in
    chunks of ``MAX_BATCH``, each committed on its own; ``after_chunk(events, results)``
    is called after each."""
    results: list[EventResult] = []
    for start in range(0, len(events), MAX_BATCH):
        chunk = events[start:start + MAX_BATCH]
        scored = ingest_events(events=chunk, actor=actor, received_by=received_by,
                               import_job=import_job, backdate=backdate)
        results += scored
        if after_chunk is not None:
            after_chunk(chunk, scored)
    return results


def _ingest(events: list[EventIn], *, actor: Actor, received_by: str, import_job: ImportJob | None,
            backdate: bool) -> list[EventResult]:
    results: list[EventResult | None] = [None] * len(events)
    parsed: list[Fresh] = []
    for index, raw in enumerate(events):
        source, ext_id = str(raw.source or "").strip(), str(raw.id or "").strip()
        occurred_at, problem = parse_event(raw)
        if problem:
            results[index] = EventResult(id=ext_id, source=source, status=EventStatus.REJECTED,
                                         reason=RejectReason.INVALID, detail=problem)
        else:
            assert occurred_at is not None
            parsed.append(Fresh(index, raw, source, ext_id, occurred_at))
    batch = Batch()
    batch.load([item.raw for item in parsed])
    existing = existing_events({(f.source, f.ext_id) for f in parsed})
    options: dict[str, Any] = {"actor": actor, "received_by": received_by,
                               "import_job": import_job}

    def one_by_one(index: int) -> None:
        raw = events[index]
        when = parse_event(raw)[0] if backdate else None
        results[index] = ingest_one(raw, batch, existing, now=when, **options)

    def flush(run: list[Fresh]) -> None:
        later, refused = score_batch_retrying(run, batch, existing, results,
                                               backdate=backdate, **options)
        for index in later:
            one_by_one(index)
        if len(refused) > SCORED_ALONE_UP_TO:
            # Find the bad events by halves, the first half first: caps and penalties
            # then count the events in the order sent, as one by one would.
            flush(refused[:len(refused) // 2])
            flush(refused[len(refused) // 2:])
        else:
            for item in refused:
                one_by_one(item.index)

    # New events are scored together, in runs; an event sent before that may be scored
    # again (a retry after a rejection) is scored one by one at its place in the order,
    # so what it does to caps and penalties is what one-by-one scoring would do. Repeats
    # of an id within this request come last: by then the first is in.
    run: list[Fresh] = []
    repeats: list[int] = []
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        key = (item.source, item.ext_id)
        known = existing.get(key)
        if key in seen:
            repeats.append(item.index)
        elif known is not None and not retryable(known):
            results[item.index] = EventResult(
                id=item.ext_id, source=item.source, status=EventStatus.DUPLICATE,
                points=known.points, event_id=known.pk)
        elif known is not None:
            flush(run)
            run = []
            one_by_one(item.index)
        else:
            run.append(item)
        seen.add(key)
    flush(run)
    for index in repeats:
        one_by_one(index)
    assert all(r is not None for r in results)
    tell_about_awards([r.event_id for r in results if r is not None and r.event_id
                       and r.status in (EventStatus.CREDITED, EventStatus.PENDING)],
                      credited=not backdate)
    return results  # type: ignore[return-value]


def row_event_id(*parts: Any) -> str:
    """A stable id for a spreadsheet row without one, so a re-run is a duplicate."""
    return "row-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def ingest_facts(facts: list[Fact], *, actor: Actor = None, received_by: str = "",
                 ) -> list[FactResult]:
    """``jifen.core.intake``'s intake: facts other apps report, scored as events."""
    results = ingest_events(events=[
        EventIn(source=fact.source, id=fact.id, type=fact.type, employee_no=fact.employee_no,
                occurred_at=fact.occurred_at, payload=dict(fact.payload))
        for fact in facts], actor=actor, received_by=received_by)
    return [FactResult(id=r.id, status=r.status, points=r.points, reason=r.reason)
            for r in results]
