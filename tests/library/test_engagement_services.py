"""Comments, ratings, share links and moderation."""

from __future__ import annotations

from datetime import date

import pytest

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.library import targets
from jifen.library.models import Comment, CommentStatus, ShareVisit
from jifen.library.selectors import engagement as selectors
from jifen.library.services import engagement as settings_services
from jifen.library.services import engagement_comments as comments
from jifen.library.services import engagement_shares as shares
from tests.factories import EmployeeFactory
from tests.library.engage_fixtures import *  # noqa: F403 - the fixtures
from tests.library.engage_fixtures import at, spendable

pytestmark = pytest.mark.django_db

LONG = "这个耳机音质很好，降噪也不错，推荐给通勤的同事。"


def test_a_long_enough_comment_earns_and_the_rule_cap_holds(employee, item, engagement_rules):
    earned = [comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                                    text=f"{LONG}{n}", now=at("2026-12-04 10:00"))[1]
              for n in range(5)]
    assert earned == [2, 2, 2, 0, 0]  # 3 comments a day earn
    assert spendable(employee) == 6
    # The next day earns again.
    _comment, next_day = comments.post_comment(employee=employee, kind="item",
                                               target_id=item.pk, text=LONG,
                                               now=at("2026-12-05 10:00"))
    assert next_day == 2


def test_a_short_comment_is_posted_but_earns_nothing(employee, item, engagement_rules):
    comment, earned = comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                                            text="不错")
    assert comment.pk and earned == 0
    assert spendable(employee) == 0


def test_a_comment_with_a_sensitive_word_is_refused_and_not_stored(employee, item, hr_admin):
    settings_services.update_engagement_settings(actor=hr_admin.user,
                                                 sensitive_words="垃圾\nSPAM")
    for text in ("这东西就是垃圾", "buy spam here"):
        with pytest.raises(errors.ValidationError) as caught:
            comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                                  text=text)
        assert caught.value.code == "sensitive_words"
    assert caught.value.details == {"words": ["SPAM"]}
    assert Comment.objects.count() == 0


def test_comments_need_a_target_the_employee_may_see(employee, make_item):
    draft = make_item(status="draft")
    with pytest.raises(errors.NotFound):
        comments.post_comment(employee=employee, kind="item", target_id=draft.pk, text=LONG)
    with pytest.raises(errors.NotFound):
        comments.post_comment(employee=employee, kind="item", target_id=10**6, text=LONG)
    with pytest.raises(errors.ValidationError) as caught:
        comments.post_comment(employee=employee, kind="course", target_id=1, text=LONG)
    assert caught.value.code == "invalid_kind"
    with pytest.raises(errors.ValidationError) as caught:
        comments.post_comment(employee=employee, kind="item", target_id=make_item().pk,
                              text=" ")
    assert caught.value.code == "message_required"
    assert Comment.objects.count() == 0


def test_rating_again_replaces_the_first_and_is_bounded(employee, item):
    other = EmployeeFactory()
    comments.rate(employee=employee, kind="item", target_id=item.pk, stars=2)
    comments.rate(employee=employee, kind="item", target_id=item.pk, stars=5)
    comments.rate(employee=other, kind="item", target_id=item.pk, stars="4")
    summary = selectors.rating_summary("item", item.pk, employee)
    assert (summary.average, summary.count, summary.mine) == (4.5, 2, 5)
    for bad in (0, 6, "x", None, True, 2.5):
        with pytest.raises(errors.ValidationError):
            comments.rate(employee=employee, kind="item", target_id=item.pk, stars=bad)
    assert selectors.rating_summary("item", item.pk).count == 2


# --- shares ----------------------------------------------------------------------------


def test_a_colleague_opening_a_share_link_earns_the_sharer_once(employee, item,
                                                                engagement_rules):
    link = shares.create_share_link(employee=employee, kind="item", target_id=item.pk)
    assert shares.create_share_link(employee=employee, kind="item", target_id=item.pk) == link
    colleague = EmployeeFactory()
    first = shares.record_share_visit(link=link, visitor=colleague, now=at("2026-12-04 10:00"))
    repeat = shares.record_share_visit(link=link, visitor=colleague,
                                       now=at("2026-12-05 10:00"))
    assert (first.counted, first.earned) == (True, 5)
    assert (repeat.counted, repeat.earned) == (False, 0)
    assert spendable(employee) == 5
    assert spendable(colleague) == 0


def test_the_sharer_opening_their_own_link_earns_nothing(employee, item, engagement_rules):
    link = shares.create_share_link(employee=employee, kind="item", target_id=item.pk)
    result = shares.record_share_visit(link=link, visitor=employee)
    assert (result.counted, result.earned) == (False, 0)
    assert ShareVisit.objects.count() == 0
    assert spendable(employee) == 0


def test_share_visits_stop_earning_at_the_daily_cap(employee, item, engagement_rules):
    link = shares.create_share_link(employee=employee, kind="item", target_id=item.pk)
    earned = [shares.record_share_visit(link=link, visitor=EmployeeFactory(),
                                        now=at("2026-12-04 10:00")).earned for _ in range(4)]
    assert earned == [5, 5, 0, 0]
    tomorrow = shares.record_share_visit(link=link, visitor=EmployeeFactory(),
                                         now=at("2026-12-05 09:00"))
    assert tomorrow.earned == 5
    assert spendable(employee) == 15
    assert ShareVisit.objects.count() == 5  # every colleague's first visit is counted


# --- moderation ------------------------------------------------------------------------


def test_report_then_hide_removes_a_comment_everywhere_and_is_audited(employee, item, hr_admin):
    comment, _ = comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                                       text=LONG, now=at("2026-12-04 10:00"))
    reporter = EmployeeFactory()
    comments.report_comment(employee=reporter, comment_id=comment.pk, reason="广告")
    comments.report_comment(employee=reporter, comment_id=comment.pk, reason="again")
    comment.refresh_from_db()
    assert comment.status == CommentStatus.REPORTED
    assert [c.pk for c in selectors.shown_comments("item", item.pk)] == [comment.pk]
    assert selectors.moderation_queue().get().report_count == 1

    comments.hide_comment(actor=hr_admin.user, comment_id=comment.pk, reason="广告")
    assert list(selectors.shown_comments("item", item.pk)) == []
    assert selectors.top_commenters(date(2026, 12, 1), date(2026, 12, 31)) == []
    assert sum(d.comments for d in selectors.daily_figures(date(2026, 12, 1),
                                                             date(2026, 12, 31))) == 0
    with pytest.raises(errors.NotFound):  # a hidden comment cannot be reported again
        comments.report_comment(employee=EmployeeFactory(), comment_id=comment.pk)

    comments.unhide_comment(actor=hr_admin.user, comment_id=comment.pk)
    assert [c.pk for c in selectors.shown_comments("item", item.pk)] == [comment.pk]
    assert list(AuditEntry.objects.filter(object_type="library.comment").order_by("pk")
                .values_list("action", flat=True)) == [
        "library.comment.report", "library.comment.hide", "library.comment.unhide"]


def test_one_cannot_report_ones_own_comment(employee, item):
    comment, _ = comments.post_comment(employee=employee, kind="item", target_id=item.pk,
                                       text=LONG)
    with pytest.raises(errors.ValidationError) as caught:
        comments.report_comment(employee=employee, comment_id=comment.pk)
    assert caught.value.code == "same_employee"


def test_a_registered_resource_kind_gets_comments_like_an_item(employee):
    """The resource half registers "resource" at merge; any registered kind works the same."""
    found = targets.TargetInfo(kind="resource", id=7, title="绩效面谈模板", url="/r/7/")
    targets.register_target("resource", lambda pk, who: found if pk == 7 else None)
    try:
        comment, _ = comments.post_comment(employee=employee, kind="resource", target_id=7,
                                           text=LONG)
        assert comment.target_kind == "resource"
        with pytest.raises(errors.NotFound):
            comments.post_comment(employee=employee, kind="resource", target_id=8, text=LONG)
    finally:
        targets.unregister_target("resource")
        targets.register_resource_target()
