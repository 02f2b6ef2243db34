"""IM writers: robots, routes and the direct-message apps (each change audit-logged), the
robot outbox with its rate-limit slots, and the sending itself (run by the worker)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.actors import Actor
from jifen.core.services import record_audit
from jifen.integrations.im import clients, selectors
from jifen.integrations.models import (
    ImAccount,
    ImApp,
    ImMessage,
    ImMessageStatus,
    ImPlatform,
    ImRobot,
    ImRoute,
    ImUserIdSource,
)
from jifen.integrations.outbound import check_url
from jifen.notifications.kinds import find_kind
from jifen.notifications.models import Notification
from jifen.people.models import Department, Employee

logger = logging.getLogger(__name__)

# Each platform's documented limit per robot: WeCom group robots and DingTalk custom
# robots 20 messages a minute, Feishu custom bots 100 a minute (and 5 a second).
DEFAULT_RATE = {ImPlatform.WECOM: 20, ImPlatform.DINGTALK: 20, ImPlatform.FEISHU: 100}
WINDOW = timedelta(minutes=1)
MAX_ATTEMPTS = 8  # 30 s, 1, 2, 4, 8, 16, 32 min, 1 h: about two hours of an outage
SIGNED_PLATFORMS = {ImPlatform.DINGTALK, ImPlatform.FEISHU}


def _robot_fields(*, platform: str, name: str, webhook_url: str,
                  rate_per_minute: int | None) -> dict[str, Any]:
    if platform not in ImPlatform.values:
        raise errors.ValidationError(_("Choose WeCom, DingTalk or Feishu."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "platform"})
    name = (name or "").strip()
    if not name:
        raise errors.ValidationError(_("Give the robot a name."),
                                     code=errors.ErrorCode.NAME_REQUIRED)
    webhook_url = (webhook_url or "").strip()
    check_url(webhook_url)
    rate = DEFAULT_RATE[ImPlatform(platform)] if rate_per_minute is None else rate_per_minute
    if not 1 <= rate <= 1000:
        raise errors.ValidationError(_("Messages per minute go from 1 to 1000."),
                                     code=errors.ErrorCode.INVALID_LIMIT)
    return {"platform": platform, "name": name[:100], "webhook_url": webhook_url,
            "rate_per_minute": rate}


def _robot_audit(robot: ImRobot) -> dict[str, Any]:
    # Never the secret: only whether there is one.
    return {"platform": robot.platform, "name": robot.name, "webhook_url": robot.webhook_url,
            "rate_per_minute": robot.rate_per_minute, "enabled": robot.enabled,
            "signed": bool(robot.secret)}


@transaction.atomic
def create_robot(*, platform: str, name: str, webhook_url: str, secret: str = "",
                 rate_per_minute: int | None = None, enabled: bool = True,
                 actor: Actor) -> ImRobot:
    """Add a group robot. The webhook URL must reach a public address (or an allow-listed
    host); the rate limit defaults to the platform's documented one."""
    fields = _robot_fields(platform=platform, name=name, webhook_url=webhook_url,
                           rate_per_minute=rate_per_minute)
    robot = ImRobot.objects.create(**fields, secret=(secret or "").strip(), enabled=enabled)
    record_audit(actor=actor, action="im.robot.create", obj=robot, after=_robot_audit(robot))
    return robot


@transaction.atomic
def update_robot(*, robot: ImRobot, name: str, webhook_url: str,
                 rate_per_minute: int | None = None, enabled: bool = True,
                 secret: str | None = None, actor: Actor) -> ImRobot:
    """Change a robot; ``secret`` None keeps the stored one, "" removes it."""
    robot = ImRobot.objects.select_for_update().get(pk=robot.pk)
    before = _robot_audit(robot)
    fields = _robot_fields(platform=robot.platform, name=name, webhook_url=webhook_url,
                           rate_per_minute=rate_per_minute)
    for key, value in fields.items():
        setattr(robot, key, value)
    robot.enabled = enabled
    if secret is not None:
        robot.secret = secret.strip()
    robot.save()
    after = _robot_audit(robot)
    if secret is not None:
        after["secret_changed"] = True
    record_audit(actor=actor, action="im.robot.update", obj=robot, before=before, after=after)
    return robot


@transaction.atomic
def delete_robot(*, robot: ImRobot, actor: Actor) -> None:
    """Remove a robot with its routes and its message log."""
    record_audit(actor=actor, action="im.robot.delete", obj=robot, before=_robot_audit(robot))
    robot.delete()
    _routes_changed()


@transaction.atomic
def create_route(*, kind: str, robot: ImRobot, department: Department | None = None,
                 actor: Actor) -> ImRoute:
    """Send notifications of ``kind`` (about employees of ``department`` and below, when
    given) to ``robot``'s group."""
    if find_kind(kind) is None:
        raise errors.ValidationError(_("There is no notification kind %(kind)s.") % {"kind": kind},
                                     code=errors.ErrorCode.INVALID_KIND, details={"kind": kind})
    route, created = ImRoute.objects.get_or_create(kind=kind, robot=robot, department=department)
    if created:
        _routes_changed()
        record_audit(actor=actor, action="im.route.create", obj=route,
                     after={"kind": kind, "robot": robot.name,
                            "department": department.name if department else None})
    return route


@transaction.atomic
def delete_route(*, route: ImRoute, actor: Actor) -> None:
    record_audit(actor=actor, action="im.route.delete", obj=route,
                 before={"kind": route.kind, "robot": route.robot.name})
    route.delete()
    _routes_changed()


@transaction.atomic
def save_app(*, platform: str, client_id: str, agent_id: str, secret: str | None,
             user_id_source: str = ImUserIdSource.SSO, enabled: bool = True,
             actor: Actor) -> ImApp:
    """Set the direct-message app of a platform (WeCom or DingTalk); ``secret`` None keeps
    the stored one."""
    if platform not in (ImPlatform.WECOM, ImPlatform.DINGTALK):
        raise errors.ValidationError(_("Direct messages go through WeCom or DingTalk."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "platform"})
    client_id, agent_id = (client_id or "").strip(), (agent_id or "").strip()
    if not client_id or not agent_id.isdigit():
        raise errors.ValidationError(_("Give the corp ID or app key and a numeric agent ID."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "agent_id" if client_id else "client_id"})
    if user_id_source not in ImUserIdSource.values:
        raise errors.ValidationError(_("Choose where IM user IDs come from."),
                                     code=errors.ErrorCode.INVALID_VALUE,
                                     details={"field": "user_id_source"})
    app = ImApp.objects.select_for_update().filter(platform=platform).first()
    before = None if app is None else {"client_id": app.client_id, "agent_id": app.agent_id,
                                       "user_id_source": app.user_id_source,
                                       "enabled": app.enabled}
    if app is None:
        if not secret:
            raise errors.ValidationError(_("Give the app's secret."),
                                         code=errors.ErrorCode.INVALID_VALUE,
                                         details={"field": "secret"})
        app = ImApp(platform=platform)
    app.client_id, app.agent_id = client_id, agent_id
    app.user_id_source, app.enabled = user_id_source, enabled
    if secret:
        app.secret = secret.strip()
    app.save()
    transaction.on_commit(lambda: cache.delete(selectors.READY_KEY))  # direct messages on/off
    record_audit(actor=actor, action="im.app.save", obj=app, before=before,
                 after={"client_id": client_id, "agent_id": agent_id,
                        "user_id_source": user_id_source, "enabled": enabled,
                        "secret_changed": bool(secret)})
    return app


@transaction.atomic
def set_im_account(*, employee: Employee, platform: str, user_id: str, actor: Actor) -> None:
    """Record (or with an empty ``user_id`` forget) the employee's user id on a platform."""
    user_id = (user_id or "").strip()
    if platform not in ImPlatform.values:
        raise errors.ValidationError(_("Choose WeCom, DingTalk or Feishu."),
                                     code=errors.ErrorCode.INVALID_VALUE)
    if user_id:
        ImAccount.objects.update_or_create(employee=employee, platform=platform,
                                           defaults={"user_id": user_id[:100]})
    else:
        ImAccount.objects.filter(employee=employee, platform=platform).delete()
    record_audit(actor=actor, action="im.account.set", obj=employee,
                 after={"platform": platform, "user_id": user_id})


# --- the robot outbox --------------------------------------------------------------------


def _slot(robot: ImRobot, now: datetime) -> datetime:
    """The earliest time the next message may go, keeping order and the robot's limit over
    any sliding minute: no earlier than the last one queued, and a minute after the
    message ``rate`` places back. The caller holds the robot's row lock."""
    rate = robot.rate_per_minute
    recent = list(ImMessage.objects.filter(robot=robot)
                  .order_by("-scheduled_at", "-id").values_list("scheduled_at", flat=True)[:rate])
    slot = now
    if recent:
        slot = max(slot, recent[0])
    if len(recent) >= rate:
        slot = max(slot, recent[rate - 1] + WINDOW)
    return slot


def absolute_url(url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    base = settings.JIFEN_BASE_URL
    return f"{base}{url}" if base else ""


def markdown(body: str, url: str) -> str:
    """The message text: the body and a link back to the page (when the site's base URL
    is known)."""
    link = absolute_url(url)
    parts = [body.strip()] if body.strip() else []
    if link:
        parts.append(f"[{_('Open in jifen')}]({link})")
    return "\n\n".join(parts)


def queue_robot_message(*, robot: ImRobot, title: str, text: str, url: str = "",
                        kind: str = "", happening: str,
                        now: datetime | None = None) -> ImMessage | None:
    """Put a message in ``robot``'s queue at its next free slot and have the worker send it
    then (after the surrounding transaction commits; nothing if it rolls back). A second
    message for the same happening is not queued (None)."""
    from jifen.integrations.im.tasks import send_im_message_task  # tasks import this module

    now = now or timezone.now()
    with transaction.atomic():
        locked = ImRobot.objects.select_for_update().get(pk=robot.pk)
        if ImMessage.objects.filter(robot=locked, happening=happening[:200]).exists():
            return None
        message = ImMessage.objects.create(
            robot=locked, kind=kind, happening=happening[:200], title=title[:200], text=text,
            url=url[:500], scheduled_at=_slot(locked, now))
        when = message.scheduled_at
        transaction.on_commit(
            lambda: send_im_message_task.using(run_after=when).enqueue(message.pk))
    return message


def _push_back(message: ImMessage, until: datetime) -> None:
    """Move the message and every message queued after it for the same robot to ``until``
    at the earliest, so the queue keeps its order while the robot waits."""
    ImMessage.objects.filter(robot_id=message.robot_id, status=ImMessageStatus.QUEUED,
                             id__gte=message.pk, scheduled_at__lt=until).update(scheduled_at=until)


def _enqueue(message_id: int, when: datetime) -> None:
    from jifen.integrations.im.tasks import send_im_message_task  # tasks import this module

    transaction.on_commit(lambda: send_im_message_task.using(run_after=when).enqueue(message_id))


def send_robot_message(message_id: int, *, now: datetime | None = None) -> str:
    """The worker's step for one queued message: wait for its slot and for every message
    queued before it (so a group reads them in order), send it, and on "too fast" or a
    failure of the platform keep it queued for later, with backoff; after
    ``MAX_ATTEMPTS`` failures, or when the platform refuses it, it is marked failed.
    Returns what happened."""
    now = now or timezone.now()
    message = ImMessage.objects.select_related("robot").filter(pk=message_id).first()
    if message is None or message.status != ImMessageStatus.QUEUED:
        return "done"
    if message.scheduled_at > now:
        with transaction.atomic():
            _enqueue(message.pk, message.scheduled_at)
        return "waiting"
    earlier = (ImMessage.objects.filter(robot_id=message.robot_id, status=ImMessageStatus.QUEUED)
               .filter(Q(scheduled_at__lt=message.scheduled_at)
                       | Q(scheduled_at=message.scheduled_at, id__lt=message.pk))
               .order_by("scheduled_at", "id").first())
    if earlier is not None:
        with transaction.atomic():
            _enqueue(message.pk, max(earlier.scheduled_at, now) + timedelta(seconds=2))
        return "behind"
    # Claim this attempt: of two workers holding the same message, one sends it.
    if not ImMessage.objects.filter(pk=message.pk, status=ImMessageStatus.QUEUED,
                                    attempts=message.attempts).update(attempts=F("attempts") + 1):
        return "taken"
    robot = message.robot
    if not robot.enabled:
        ImMessage.objects.filter(pk=message.pk).update(status=ImMessageStatus.FAILED,
                                                       last_error="robot disabled")
        return "failed"
    try:
        result = clients.send_robot(robot, title=message.title, text=message.text)
    except errors.ValidationError as exc:  # the URL now points somewhere refused
        result = clients.Result(clients.Outcome.FAILED, str(exc.message))
    attempts = message.attempts + 1
    with transaction.atomic():
        if result.outcome is clients.Outcome.SENT:
            ImMessage.objects.filter(pk=message.pk).update(
                status=ImMessageStatus.SENT, sent_at=timezone.now(), last_error="")
            return "sent"
        if result.outcome is clients.Outcome.FAILED or (
                result.outcome is clients.Outcome.RETRY and attempts >= MAX_ATTEMPTS):
            logger.warning("IM robot %s: message %s failed: %s", robot.pk, message.pk,
                           result.detail)
            ImMessage.objects.filter(pk=message.pk).update(
                status=ImMessageStatus.FAILED, last_error=result.detail[:500])
            return "failed"
        pause = (result.retry_after if result.outcome is clients.Outcome.RATE_LIMITED
                 else min(30 * 2 ** (attempts - 1), 3600))
        until = now + timedelta(seconds=pause or 60)
        if result.outcome is clients.Outcome.RATE_LIMITED:
            # Waiting for the limit is not a failed attempt.
            ImMessage.objects.filter(pk=message.pk).update(attempts=F("attempts") - 1)
        ImMessage.objects.filter(pk=message.pk).update(last_error=result.detail[:500])
        _push_back(message, until)
        _enqueue(message.pk, until)
    return result.outcome.value


@transaction.atomic
def resend_overdue(*, now: datetime | None = None, late: timedelta = timedelta(minutes=5),
                   limit: int = 1000) -> int:
    """The catch-up for send tasks that were lost (a worker killed mid-task): enqueue again
    every queued message whose slot passed more than ``late`` ago, in queue order (each
    still waits for those before it). A message whose task still exists is sent once all
    the same (the attempt is claimed). Returns how many were enqueued."""
    now = now or timezone.now()
    overdue = list(ImMessage.objects.filter(status=ImMessageStatus.QUEUED,
                                            scheduled_at__lt=now - late)
                   .order_by("scheduled_at", "id").values_list("id", flat=True)[:limit])
    for pk in overdue:
        _enqueue(pk, now)
    return len(overdue)


@transaction.atomic
def send_test_message(*, robot: ImRobot, actor: Actor) -> None:
    """Send a test message through ``robot`` now (not queued), so an admin sees at once
    whether the URL and secret are right; ``im_send_failed`` with the platform's answer
    otherwise."""
    title = _("jifen test message")
    text = markdown(_("This group will receive jifen notifications."), "/")
    result = clients.send_robot(robot, title=title, text=text)
    record_audit(actor=actor, action="im.robot.test", obj=robot,
                 after={"outcome": result.outcome.value})
    if result.outcome is not clients.Outcome.SENT:
        raise errors.Conflict(_("The platform did not take the message: %(detail)s")
                              % {"detail": result.detail},
                              code=errors.ErrorCode.IM_SEND_FAILED,
                              details={"outcome": result.outcome.value})


# --- notifications to groups -------------------------------------------------------------


ROUTED_KINDS_KEY = "im:routed_kinds"


def routed_kinds() -> frozenset[str]:
    """The kinds that have a route, from the cache: most notifications have none, and
    asking the database on every one would cost each sender a query."""
    kinds = cache.get(ROUTED_KINDS_KEY)
    if kinds is None:
        kinds = sorted(set(ImRoute.objects.values_list("kind", flat=True)))
        cache.set(ROUTED_KINDS_KEY, kinds, 300)
    return frozenset(kinds)


def _routes_changed() -> None:
    transaction.on_commit(lambda: cache.delete(ROUTED_KINDS_KEY))


def happening_of(notification: Notification) -> str:
    """What a group message is about, so one happening makes one message however many
    people were notified of it. A notice for those holding a capability (low stock to
    every mall admin) is one happening per dedupe key, or per identical content and day;
    a notice about its own recipient (a prize won, a thank-you) is one per recipient."""
    kind = find_kind(notification.kind)
    if kind is not None and kind.audience is None:
        own = notification.dedupe_key or notification.pk
        return f"{notification.kind}:n{notification.recipient_id}:{own}"
    if notification.dedupe_key:
        return f"{notification.kind}:{notification.dedupe_key}"
    day = timezone.localdate(notification.created_at or timezone.now()).isoformat()
    content = json.dumps([notification.params, notification.stored_title,
                          notification.stored_body, notification.url, day],
                         sort_keys=True, default=str)
    return f"{notification.kind}:{hashlib.sha256(content.encode()).hexdigest()[:32]}"


def _group_words(notification: Notification) -> tuple[str, str]:
    """Title and markdown text in the site's default language; a notice about one person
    names them (a group does not know who "you" is)."""
    with translation.override(settings.LANGUAGE_CODE):
        title, body = notification.rendered()
        kind = find_kind(notification.kind)
        if kind is not None and kind.audience is None:
            who = _employee_name(notification.recipient_id)
            if who:
                title = f"{who}: {title}"
        return title, markdown(body, notification.url)


def _employee_name(user_id: int) -> str:
    return Employee.objects.filter(user_id=user_id).values_list("name", flat=True).first() or ""


def route_notification(notification: Notification) -> int:
    """Queue a group message on every enabled robot routed for the notification's kind
    (a route with a department only for notices about employees in it). Returns how many
    were queued."""
    if notification.kind not in routed_kinds():
        return 0
    routes = list(ImRoute.objects.filter(kind=notification.kind, robot__enabled=True)
                  .select_related("robot", "department"))
    if not routes:
        return 0
    path = (Employee.objects.filter(user_id=notification.recipient_id)
            .values_list("department__path", flat=True).first())
    happening = happening_of(notification)
    title, text = "", ""
    queued = 0
    for route in routes:
        if route.department is not None and not (path or "").startswith(route.department.path):
            continue
        if not title:
            title, text = _group_words(notification)
        if queue_robot_message(robot=route.robot, title=title, text=text, url=notification.url,
                               kind=notification.kind, happening=happening):
            queued += 1
    return queued


# --- direct messages ---------------------------------------------------------------------


def _dm_user_id(app: ImApp, employee: Employee) -> str:
    account = (ImAccount.objects.filter(employee=employee, platform=app.platform)
               .values_list("user_id", flat=True).first())
    if account:
        return str(account)
    if app.user_id_source == ImUserIdSource.EMPLOYEE_NO:
        return employee.employee_no
    if employee.user_id is None:
        return ""
    from allauth.socialaccount.models import SocialAccount  # an optional app's model

    uid = (SocialAccount.objects.filter(user_id=employee.user_id, provider=app.platform)
           .values_list("uid", flat=True).first())
    return str(uid or "")


def deliver_direct(notification_id: int) -> bool:
    """The IM channel's sender (``jifen.notifications.channels``): send the notification
    to its recipient through the first enabled app that knows their IM user id. False
    when there is none (no app, no id); raises ``DeliveryError`` for a failure worth
    retrying."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return False
    employee = Employee.objects.filter(user_id=notification.recipient_id).first()
    if employee is None:
        return False
    for app in ImApp.objects.filter(enabled=True).order_by("platform"):
        user_id = _dm_user_id(app, employee)
        if not user_id:
            continue
        title, body = notification.rendered()
        result = clients.send_direct(app, user_id=user_id, title=title,
                                     text=markdown(body, notification.url))
        if result.outcome is clients.Outcome.SENT:
            return True
        if result.outcome is clients.Outcome.FAILED:
            logger.warning("IM app %s: message to %s refused: %s", app.platform, user_id,
                           result.detail)
            continue
        raise DeliveryError(result.detail)
    return False


class DeliveryError(Exception):
    """The platform is down or busy: the notifications worker retries."""
