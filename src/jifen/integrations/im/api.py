"""IM endpoints of /api/v1 (scope ``admin``): group robots, their message log and a test
message, routes from notification kinds to robots, the direct-message apps, and
employees' IM user ids. Secrets are write-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from jifen.core import errors
from jifen.core.apiauth import principal
from jifen.core.idempotency import idempotent
from jifen.core.pagination import CursorPage, paginate
from jifen.core.schema_types import UrlRowId
from jifen.integrations.im import selectors, services
from jifen.integrations.models import ImApp, ImRobot, ImRoute
from jifen.people.selectors import department_by_code, employee_by_no

router = Router(tags=["im"])


def _admin(request: HttpRequest) -> Any:
    caller = principal(request)
    caller.require("admin")
    return caller


class RobotOut(Schema):
    id: int
    platform: str
    name: str
    webhook_url: str
    signed: bool = Field(description="Whether a signing secret is stored (never returned).")
    rate_per_minute: int
    enabled: bool
    created_at: datetime

    @staticmethod
    def resolve_signed(obj: ImRobot) -> bool:
        return bool(obj.secret)


class RobotIn(Schema):
    platform: str = Field(description="`wecom`, `dingtalk` or `feishu`.")
    name: str = Field(max_length=100)
    webhook_url: str = Field(max_length=500)
    secret: str = Field("", max_length=200, description="DingTalk/Feishu signing secret.")
    rate_per_minute: int | None = Field(None, ge=1, le=1000)
    enabled: bool = True


class RobotPatch(Schema):
    name: str | None = Field(None, max_length=100)
    webhook_url: str | None = Field(None, max_length=500)
    secret: str | None = Field(None, max_length=200,
                               description="A new secret; \"\" removes it; absent keeps it.")
    rate_per_minute: int | None = Field(None, ge=1, le=1000)
    enabled: bool | None = None


class MessageOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    scheduled_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str


class RouteOut(Schema):
    id: int
    kind: str
    robot_id: int
    department_code: str | None

    @staticmethod
    def resolve_department_code(obj: ImRoute) -> str | None:
        return obj.department.code if obj.department else None


class RouteIn(Schema):
    kind: str = Field(max_length=60, description="A notification kind, e.g. `mall.low_stock`.")
    robot_id: int = Field(ge=1, le=2**63 - 1)
    department_code: str | None = Field(None, max_length=40)


class AppOut(Schema):
    platform: str
    client_id: str
    agent_id: str
    user_id_source: str
    enabled: bool


class AppIn(Schema):
    client_id: str = Field(max_length=100, description="WeCom corp ID or DingTalk app key.")
    agent_id: str = Field(max_length=40)
    secret: str | None = Field(None, max_length=200, description="Write-only; absent keeps it.")
    user_id_source: str = Field("sso", description="`sso` or `employee_no`.")
    enabled: bool = True


class AccountIn(Schema):
    user_id: str = Field(max_length=100, description="\"\" forgets it.")


@router.get("/im/robots", response=CursorPage[RobotOut])
def list_robots(request: HttpRequest, cursor: str | None = None, limit: int = 50):
    _admin(request)
    return paginate(selectors.robots(), cursor=cursor, limit=max(1, min(limit, 200)))


@router.post("/im/robots", response={201: RobotOut})
def create_robot(request: HttpRequest, payload: RobotIn):
    """Add a group robot; the URL must reach a public address (or an allow-listed host)."""
    caller = _admin(request)

    def handle() -> tuple[int, Any]:
        robot = services.create_robot(actor=caller.actor, **payload.dict())
        return 201, RobotOut.from_orm(robot).dict()

    return idempotent(request, caller.id, handle)


@router.get("/im/robots/{int:robot_id}", response=RobotOut)
def get_robot(request: HttpRequest, robot_id: UrlRowId):
    _admin(request)
    return selectors.robot(robot_id)


@router.patch("/im/robots/{int:robot_id}", response=RobotOut)
def update_robot(request: HttpRequest, robot_id: UrlRowId, payload: RobotPatch):
    caller = _admin(request)
    robot = selectors.robot(robot_id)
    changes = payload.dict(exclude_unset=True)
    return services.update_robot(
        robot=robot, actor=caller.actor,
        name=changes.get("name") or robot.name,
        webhook_url=changes.get("webhook_url") or robot.webhook_url,
        rate_per_minute=changes.get("rate_per_minute") or robot.rate_per_minute,
        enabled=robot.enabled if changes.get("enabled") is None else changes["enabled"],
        secret=changes.get("secret"))


@router.delete("/im/robots/{int:robot_id}", response={204: None})
def delete_robot(request: HttpRequest, robot_id: UrlRowId):
    caller = _admin(request)
    services.delete_robot(robot=selectors.robot(robot_id), actor=caller.actor)
    return 204, None


@router.post("/im/robots/{int:robot_id}/test")
def test_robot(request: HttpRequest, robot_id: UrlRowId) -> dict:
    """Send a test message now; 409 ``im_send_failed`` with the platform's answer."""
    caller = _admin(request)
    services.send_test_message(robot=selectors.robot(robot_id), actor=caller.actor)
    return {"status": "sent"}


@router.get("/im/robots/{int:robot_id}/messages", response=CursorPage[MessageOut])
def robot_messages(request: HttpRequest, robot_id: UrlRowId, cursor: str | None = None,
                   limit: int = 50):
    """The robot's message log, newest first: queued, sent or failed, with the last error."""
    _admin(request)
    return paginate(selectors.messages(selectors.robot(robot_id)), cursor=cursor,
                    limit=max(1, min(limit, 200)), descending=True)


@router.get("/im/routes", response=CursorPage[RouteOut])
def list_routes(request: HttpRequest, cursor: str | None = None, limit: int = 100):
    _admin(request)
    return paginate(selectors.routes(), cursor=cursor, limit=max(1, min(limit, 200)))


@router.post("/im/routes", response={201: RouteOut})
def create_route(request: HttpRequest, payload: RouteIn):
    """Send notifications of ``kind`` (about employees of the department and below, when
    given) to a robot's group."""
    caller = _admin(request)

    def handle() -> tuple[int, Any]:
        department = None
        if payload.department_code:
            department = department_by_code(payload.department_code)
            if department is None:
                raise errors.ValidationError(
                    _("Unknown department %s.") % payload.department_code,
                    code=errors.ErrorCode.UNKNOWN_DEPARTMENT,
                    details={"department_code": payload.department_code})
        route = services.create_route(kind=payload.kind, robot=selectors.robot(payload.robot_id),
                                      department=department, actor=caller.actor)
        return 201, RouteOut.from_orm(route).dict()

    return idempotent(request, caller.id, handle)


@router.delete("/im/routes/{int:route_id}", response={204: None})
def delete_route(request: HttpRequest, route_id: UrlRowId):
    caller = _admin(request)
    services.delete_route(route=selectors.route(route_id), actor=caller.actor)
    return 204, None


@router.get("/im/apps", response=list[AppOut])
def list_apps(request: HttpRequest) -> list[ImApp]:
    _admin(request)
    return list(selectors.apps())


@router.put("/im/apps/{platform}", response=AppOut)
def save_app(request: HttpRequest, platform: str, payload: AppIn):
    """Set the direct-message app of `wecom` or `dingtalk`."""
    caller = _admin(request)
    return services.save_app(platform=platform, actor=caller.actor, **payload.dict())


@router.put("/im/accounts/{employee_no}/{platform}", response={204: None})
def set_account(request: HttpRequest, employee_no: str, platform: str, payload: AccountIn):
    """Record an employee's user id on an IM platform (for direct messages)."""
    caller = _admin(request)
    services.set_im_account(employee=employee_by_no(employee_no), platform=platform,
                            user_id=payload.user_id, actor=caller.actor)
    return 204, None

