"""Library API: the engagement part — check in, my check-ins of a month, make up a missed
day, comments (list, post, report), ratings, share links, and the moderation of comments
(callers who manage the library, with their own token). Hidden comments are never listed
except to moderators."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.pagination import paginate
from jifen.core.roles import Cap, user_can
from jifen.core.schema_types import RowId, StrictInt, UrlRowId
from jifen.ledger.amounts import PointsOut
from jifen.library.models import Comment
from jifen.library.selectors import engagement as selectors
from jifen.library.services import engagement as services
from jifen.library.services import engagement_comments as comment_services
from jifen.library.services import engagement_shares as share_services
from jifen.library.targets import require_target

router = Router(tags=["library"])

Kind = Field(..., max_length=20, description='What it is about: "item" (a mall item) or '
             '"resource" (a library resource).')


# --- check-in --------------------------------------------------------------------------


class CheckInOut(Schema):
    day: date
    streak: int
    made_up: bool
    checked_in_at: datetime


class CheckInResultOut(CheckInOut):
    created: bool = Field(description="False: already checked in today (nothing earned).")
    earned: PointsOut


def _check_in_out(row: Any) -> dict[str, Any]:
    return {"day": row.day, "streak": row.streak, "made_up": row.made_up,
            "checked_in_at": row.created_at}


@router.post("/check-ins", response={200: CheckInResultOut, 201: CheckInResultOut})
def check_in(request: HttpRequest):
    """Check the signed-in employee in for today (the company's time zone). 201 the first
    time a day, 200 with ``created: false`` after that. Points come from HR's rules."""
    employee = principal(request).require_employee()
    result = services.check_in(employee=employee)
    return (201 if result.created else 200), {
        **_check_in_out(result.check_in), "created": result.created, "earned": result.earned}


class MonthOut(Schema):
    month: str
    days: list[CheckInOut]
    streak: int = Field(description="The current streak (alive if today or yesterday is "
                                    "checked in).")
    checked_today: bool
    makeup_cards_left: int


class MonthQuery(Schema):
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$",
                              description="YYYY-MM; this month when omitted.")


@router.get("/check-ins", response=MonthOut)
def my_check_ins(request: HttpRequest, query: Query[MonthQuery]):
    """The signed-in employee's check-ins of one month, with the current streak."""
    employee = principal(request).require_employee()
    today = selectors.today()
    year, month = today.year, today.month
    if query.month:
        year, month = int(query.month[:4]), int(query.month[5:])
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise errors.ValidationError(_("Give the month as YYYY-MM."),
                                         code=errors.ErrorCode.INVALID_PERIOD)
    overview = selectors.check_in_month(employee, year, month)
    return {"month": f"{year:04d}-{month:02d}",
            "days": [_check_in_out(c) for c in selectors.check_ins_in_month(employee, year,
                                                                            month)],
            "streak": overview.streak, "checked_today": overview.checked_today,
            "makeup_cards_left": overview.cards_left}


class MakeUpIn(Schema):
    day: date


@router.post("/check-ins/make-up", response={201: CheckInOut})
def make_up(request: HttpRequest, payload: MakeUpIn):
    """Spend a make-up card (bought in the mall) on a missed day. 409 ``no_makeup_card``,
    ``already_checked_in``, ``not_available`` (cards off); 422 ``out_of_range``. Send an
    ``Idempotency-Key`` header: a replay answers with the first answer, spending nothing."""
    caller = principal(request)
    employee = caller.require_employee()

    def handler() -> tuple[int, dict]:
        row = services.make_up_day(employee=employee, day=payload.day)
        return 201, CheckInOut(**_check_in_out(row)).model_dump()

    return idempotent(request, caller.id, handler)


# --- comments ---------------------------------------------------------------------------


class CommentOut(Schema):
    id: int
    kind: str
    target_id: int
    author: str
    department: str
    text: str
    status: str
    created_at: datetime


def _comment_out(comment: Comment) -> dict[str, Any]:
    return {"id": comment.pk, "kind": comment.target_kind, "target_id": comment.target_id,
            "author": comment.author.name,
            "department": comment.author.department.name if comment.author.department_id
            else "", "text": comment.text, "status": comment.status,
            "created_at": comment.created_at}


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None
    rating: float | None
    ratings: int
    my_rating: int | None


class CommentQuery(Schema):
    kind: str = Kind
    target_id: UrlRowId
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(20, ge=1, le=100)


@router.get("/comments", response=CommentPage)
def list_comments(request: HttpRequest, query: Query[CommentQuery]):
    """Comments on one target, newest first (hidden ones never), with its rating."""
    employee = principal(request).require_employee()
    target = require_target(query.kind, query.target_id, employee)
    page = paginate(selectors.shown_comments(target.kind, target.id), cursor=query.cursor,
                    limit=query.limit, descending=True)
    summary = selectors.rating_summary(target.kind, target.id, employee)
    return {"items": [_comment_out(c) for c in page["items"]],
            "next_cursor": page["next_cursor"], "rating": summary.average,
            "ratings": summary.count, "my_rating": summary.mine}


class CommentIn(Schema):
    kind: str = Kind
    target_id: RowId
    text: str = Field(..., max_length=comment_services.MAX_COMMENT_LENGTH)


class CommentCreated(CommentOut):
    earned: PointsOut


@router.post("/comments", response={201: CommentCreated})
def post_comment(request: HttpRequest, payload: CommentIn):
    """Comment on an item or resource. 422 ``message_required``, ``sensitive_words``
    (details ``words``); 404 when the target is unknown or not visible to the caller. A
    comment of at least the minimum length earns by HR's "comment" rule (capped).
    Send an ``Idempotency-Key`` header: a replay answers with the first comment."""
    caller = principal(request)
    employee = caller.require_employee()

    def handler() -> tuple[int, dict]:
        comment, earned = comment_services.post_comment(
            employee=employee, kind=payload.kind, target_id=payload.target_id,
            text=payload.text)
        comment.author = employee
        return 201, CommentCreated(**_comment_out(comment), earned=earned).model_dump()

    return idempotent(request, caller.id, handler)


class ReportIn(Schema):
    reason: str = Field("", max_length=comment_services.MAX_REASON_LENGTH)


@router.post("/comments/{comment_id}/report", response={200: CommentOut})
def report_comment(request: HttpRequest, comment_id: UrlRowId, payload: ReportIn):
    """Report a colleague's comment to the moderators (counted once per caller)."""
    employee = principal(request).require_employee()
    comment = comment_services.report_comment(employee=employee, comment_id=comment_id,
                                              reason=payload.reason)
    return _comment_out(comment)


# --- ratings and shares -----------------------------------------------------------------


class RatingIn(Schema):
    kind: str = Kind
    target_id: RowId
    stars: StrictInt = Field(..., ge=1, le=5)


class RatingOut(Schema):
    kind: str
    target_id: int
    stars: int
    average: float | None
    ratings: int


@router.put("/ratings", response=RatingOut)
def rate(request: HttpRequest, payload: RatingIn):
    """Rate an item or resource 1–5 stars; rating again replaces the caller's rating."""
    employee = principal(request).require_employee()
    rating = comment_services.rate(employee=employee, kind=payload.kind,
                                   target_id=payload.target_id, stars=payload.stars)
    summary = selectors.rating_summary(rating.target_kind, rating.target_id)
    return {"kind": rating.target_kind, "target_id": rating.target_id, "stars": rating.stars,
            "average": summary.average, "ratings": summary.count}


class ShareIn(Schema):
    kind: str = Kind
    target_id: RowId


class ShareOut(Schema):
    code: str
    url: str = Field(description="The link to send colleagues (absolute).")
    kind: str
    target_id: int
    visits: int = Field(description="Colleagues who opened it (each once).")


@router.post("/share-links", response={200: ShareOut})
def create_share_link(request: HttpRequest, payload: ShareIn):
    """The caller's share link for an item or resource (the same link every time). When a
    colleague opens it the caller earns by HR's "share" rule — not for their own visits or
    a colleague's repeat visits, and within the rule's caps."""
    employee = principal(request).require_employee()
    link = share_services.create_share_link(employee=employee, kind=payload.kind,
                                            target_id=payload.target_id)
    return {"code": link.code,
            "url": request.build_absolute_uri(reverse("portal:library_share",
                                                      args=[link.code])),
            "kind": link.target_kind, "target_id": link.target_id,
            "visits": link.visits.count()}


# --- moderation -------------------------------------------------------------------------


def _moderator(request: HttpRequest) -> Any:
    caller = principal(request)
    if caller.kind != "employee" or not user_can(caller.user, Cap.MANAGE_LIBRARY):
        raise errors.PermissionDenied(
            _("Comments are moderated by those who manage the library, with their own token."),
            code=errors.ErrorCode.FORBIDDEN)
    return caller.user


class QueueOut(CommentOut):
    reports: int
    target_title: str


class QueueQuery(Schema):
    status: Literal["reported", "hidden", "visible"] = "reported"
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class QueuePage(Schema):
    items: list[QueueOut]
    next_cursor: str | None


@router.get("/moderation/comments", response=QueuePage)
def moderation_queue(request: HttpRequest, query: Query[QueueQuery]):
    """Comments by status (reported ones by default), for moderators."""
    _moderator(request)
    page = paginate(selectors.moderation_queue(query.status), cursor=query.cursor,
                    limit=query.limit, descending=True)
    titles = selectors.targets_of(page["items"])
    return {"items": [{**_comment_out(c), "reports": c.report_count,
                       "target_title": getattr(titles.get((c.target_kind, c.target_id)),
                                               "title", "")} for c in page["items"]],
            "next_cursor": page["next_cursor"]}


class ModerateIn(Schema):
    action: Literal["hide", "unhide"]
    reason: str = Field("", max_length=comment_services.MAX_REASON_LENGTH)


@router.post("/moderation/comments/{comment_id}", response=CommentOut)
def moderate(request: HttpRequest, comment_id: UrlRowId, payload: ModerateIn):
    """Hide a comment everywhere, or show it again (``unhide`` also settles its reports).
    Every act is audited."""
    actor = _moderator(request)
    act: Callable[..., Comment] = (comment_services.hide_comment if payload.action == "hide"
                                   else comment_services.unhide_comment)
    comment = act(actor=actor, comment_id=comment_id, reason=payload.reason)
    return _comment_out(selectors.comment_for_answer(comment.pk))



# --- settings and figures (those who manage the library) --------------------------------


class SettingsOut(Schema):
    makeup_cards_enabled: bool
    makeup_item_id: int | None
    makeup_window_days: int
    comment_min_length: int
    sensitive_words: list[str]


class SettingsIn(Schema):
    makeup_cards_enabled: bool | None = None
    makeup_item_id: RowId | None = None
    makeup_window_days: StrictInt | None = Field(None, ge=1, le=31)
    comment_min_length: StrictInt | None = Field(None, ge=1,
                                                 le=comment_services.MAX_COMMENT_LENGTH)
    sensitive_words: list[str] | None = Field(None, max_length=services.MAX_SENSITIVE_WORDS)


def _settings_out(current: Any) -> dict[str, Any]:
    return {"makeup_cards_enabled": current.makeup_cards_enabled,
            "makeup_item_id": current.makeup_item_id,
            "makeup_window_days": current.makeup_window_days,
            "comment_min_length": current.comment_min_length,
            "sensitive_words": current.word_list}


@router.get("/engagement/settings", response=SettingsOut)
def get_engagement_settings(request: HttpRequest):
    """Make-up cards, the minimum length of a comment that earns, the sensitive words."""
    _moderator(request)
    return _settings_out(selectors.engagement_settings())


@router.patch("/engagement/settings", response=SettingsOut)
def update_engagement_settings(request: HttpRequest, payload: SettingsIn):
    """Change some settings (audited). ``sensitive_words`` replaces the whole list."""
    actor = _moderator(request)
    changes = payload.model_dump(exclude_unset=True)
    if "sensitive_words" in changes:
        changes["sensitive_words"] = "\n".join(
            str(w).replace("\n", " ") for w in changes["sensitive_words"] or [])
    if "makeup_cards_enabled" in changes and changes["makeup_cards_enabled"] is None:
        del changes["makeup_cards_enabled"]
    for name in ("makeup_window_days", "comment_min_length"):
        if name in changes and changes[name] is None:
            del changes[name]
    return _settings_out(services.update_engagement_settings(actor=actor, **changes))


class DayOut(Schema):
    day: date
    check_ins: int
    rate: float = Field(description="Check-ins ÷ active employees, 0–1.")
    comments: int
    share_visits: int


class FiguresOut(Schema):
    since: date
    until: date
    days: list[DayOut]
    heatmap: list[list[int]] = Field(description="Check-ins by weekday (0 = Monday) × hour, "
                                                 "in the company's time zone.")


class FiguresQuery(Schema):
    days: int = Field(30, ge=1, le=366)


@router.get("/engagement/figures", response=FiguresOut)
def engagement_figures(request: HttpRequest, query: Query[FiguresQuery]):
    """The operators' view as data: per day check-ins, their rate, comments (never hidden
    ones) and share visits, and the weekday × hour heatmap of check-ins."""
    _moderator(request)
    until = selectors.today()
    since = until - timedelta(days=query.days - 1)
    return {"since": since, "until": until,
            "days": [vars(f) for f in selectors.daily_figures(since, until)],
            "heatmap": selectors.check_in_heatmap(since, until)}
