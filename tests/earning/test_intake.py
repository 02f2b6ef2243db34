from __future__ import annotations

from jifen.earning.models import Award, Event
from jifen.ledger.selectors import balance
from tests.earning.conftest import event, ingest


def test_fixed_rule_credits_points_and_links_the_version(employee, make_rule, verify_clean):
    rule = make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    (result,) = ingest(event(employee, "idea_adopted", {"title": "x"}))
    assert (result.status, result.points) == ("credited", 20)
    assert balance(employee=employee).spendable == 20
    award = Award.objects.get()
    assert award.rule_version.number == 1 and award.rule_version.rule == rule
    assert (award.transaction.cause_type, award.transaction.cause_id) == (
        "earning.event", str(award.event_id))
    verify_clean()


def test_same_source_and_id_twice_is_a_duplicate(employee, make_rule, verify_clean):
    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    first = event(employee, "idea_adopted", id_="A1")
    (one,) = ingest(first)
    two, three = ingest(first, first)
    assert one.status == "credited"
    assert (two.status, three.status) == ("duplicate", "duplicate")
    assert balance(employee=employee).spendable == 20
    assert Event.objects.count() == 1
    verify_clean()


def test_an_event_the_ledger_refuses_is_rejected_alone(employee, make_rule, monkeypatch,
                                                      verify_clean):
    from jifen.core import errors
    from jifen.ledger import bulk
    from jifen.ledger import services as ledger

    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    real_credit = ledger.credit

    def plan_earnings(postings):  # the batch path is refused as a whole ...
        raise errors.ValidationError("refused for the test", code="test")

    def credit(**kwargs):
        if kwargs["amount"] == 20 and not hasattr(credit, "refused"):
            credit.refused = True
            raise errors.ValidationError("refused for the test", code="test")
        return real_credit(**kwargs)

    monkeypatch.setattr(bulk, "plan_earnings", plan_earnings)
    monkeypatch.setattr(ledger, "credit", credit)  # ... and one by one only its first event
    bad, good = ingest(event(employee, "idea_adopted"), event(employee, "idea_adopted"))
    assert (bad.status, bad.reason, bad.detail) == ("rejected", "invalid", "refused for the test")
    assert good.status == "credited"
    assert Event.objects.count() == 1 and Award.objects.count() == 1
    verify_clean()


def test_a_value_the_database_refuses_rejects_only_its_event(employee, make_rule, verify_clean):
    # PostgreSQL refuses a NUL character inside a JSON payload; the others accept it.
    make_rule(event_type="idea_adopted", formula={"kind": "fixed", "points": 20})
    first, odd, last = ingest(event(employee, "idea_adopted", {"title": "好主意"}),
                              event(employee, "idea_adopted", {"title": "a\x00b"}),
                              event(employee, "idea_adopted", {"title": "又一个"}))
    assert (first.status, last.status) == ("credited", "credited")
    assert (odd.status, odd.reason) in {("credited", ""), ("rejected", "invalid")}
    assert balance(employee=employee).spendable == 40 + (20 if odd.status == "credited" else 0)
    verify_clean()


def test_facts_reported_by_another_app_earn_through_the_rules_once(employee, make_rule,
                                                                   verify_clean):
    from django.utils import timezone

    from jifen.core.intake import Fact, report_facts

    make_rule(event_type="daily_checkin", formula={"kind": "fixed", "points": 1})
    fact = Fact(source="library", id=f"checkin:{employee.pk}:2026-12-04", type="daily_checkin",
                employee_no=employee.employee_no, occurred_at=timezone.now())
    (first,) = report_facts([fact])
    (again,) = report_facts([fact])
    assert (first.status, first.points) == ("credited", 1)
    assert again.status == "duplicate"
    assert balance(employee=employee).spendable == 1
    verify_clean()
