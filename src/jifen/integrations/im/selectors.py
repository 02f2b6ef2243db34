"""IM reads for the console and the API."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.integrations.models import ImApp, ImMessage, ImRobot, ImRoute


def robots() -> QuerySet[ImRobot]:
    return ImRobot.objects.order_by("name", "id")


def robot(pk: int) -> ImRobot:
    found = ImRobot.objects.filter(pk=pk).first()
    if found is None:
        raise errors.NotFound(_("There is no such robot."), code=errors.ErrorCode.NOT_FOUND)
    return found


def routes() -> QuerySet[ImRoute]:
    return ImRoute.objects.select_related("robot", "department").order_by("kind", "id")


def route(pk: int) -> ImRoute:
    found = routes().filter(pk=pk).first()
    if found is None:
        raise errors.NotFound(_("There is no such route."), code=errors.ErrorCode.NOT_FOUND)
    return found


def apps() -> QuerySet[ImApp]:
    return ImApp.objects.order_by("platform")


def messages(robot: ImRobot) -> QuerySet[ImMessage]:
    """The robot's message log, newest first."""
    return ImMessage.objects.filter(robot=robot)


READY_KEY = "integrations:im:dm-ready"


def direct_messages_ready() -> bool:
    """Whether an enabled WeCom or DingTalk app can send direct messages (cached: it is
    asked on every notification; saving an app clears it)."""
    ready = cache.get(READY_KEY)
    if ready is None:
        ready = ImApp.objects.filter(enabled=True).exists()
        cache.set(READY_KEY, ready, 300)
    return bool(ready)
