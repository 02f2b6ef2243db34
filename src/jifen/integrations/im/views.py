"""IM console pages (super admins, or whoever may manage API keys): robots with a test
message and their message log, routes from notification kinds to robots, and the
direct-message apps. Mounted under /console/im/ by ``jifen.integrations.urls``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from jifen.core import errors
from jifen.core.permissions import require_capability
from jifen.core.roles import Cap
from jifen.integrations.im import selectors, services
from jifen.integrations.im.forms import AppForm, RobotForm, RouteForm
from jifen.integrations.models import ImPlatform
from jifen.people.selectors import all_departments

DM_PLATFORMS = (ImPlatform.WECOM, ImPlatform.DINGTALK)


def _robot(pk: int):  # type: ignore[no-untyped-def]
    try:
        return selectors.robot(pk)
    except errors.NotFound as exc:
        raise Http404 from exc


def _route_form(data: object = None) -> RouteForm:
    return RouteForm(data, robots=list(selectors.robots()),  # type: ignore[arg-type]
                     departments=list(all_departments()))


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def im_home(request: HttpRequest) -> HttpResponse:
    """Robots (and the form to add one), routes and the direct-message apps."""
    form = RobotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            robot = services.create_robot(
                platform=data["platform"], name=data["name"], webhook_url=data["webhook_url"],
                secret=data["secret"], rate_per_minute=data["rate_per_minute"],
                enabled=data["enabled"], actor=request.user)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Robot %(name)s added. Send a test message to check "
                                        "it.") % {"name": robot.name})
            return redirect("console:im")
    apps = {app.platform: app for app in selectors.apps()}
    return render(request, "integrations/im/home.html", {
        "form": form, "robots": list(selectors.robots()), "routes": list(selectors.routes()),
        "route_form": _route_form(),
        "apps": [(p, ImPlatform(p).label, apps.get(p)) for p in DM_PLATFORMS],
    })


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def im_robot(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one robot; its recent messages below."""
    robot = _robot(pk)
    initial = {"platform": robot.platform, "name": robot.name,
               "webhook_url": robot.webhook_url, "rate_per_minute": robot.rate_per_minute,
               "enabled": robot.enabled}
    form = RobotForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        secret = "" if data.get("remove_secret") else (data["secret"] or None)
        try:
            services.update_robot(robot=robot, name=data["name"],
                                  webhook_url=data["webhook_url"],
                                  rate_per_minute=data["rate_per_minute"],
                                  enabled=data["enabled"], secret=secret, actor=request.user)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Robot %(name)s saved.") % {"name": data["name"]})
            return redirect("console:im")
    return render(request, "integrations/im/robot.html", {
        "robot": robot, "form": form, "log": list(selectors.messages(robot)[:50]),
    })


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def im_robot_test(request: HttpRequest, pk: int) -> HttpResponse:
    robot = _robot(pk)
    try:
        services.send_test_message(robot=robot, actor=request.user)
    except errors.JifenError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The test message went to %(name)s.") % {"name": robot.name})
    return redirect("console:im_robot", pk=robot.pk)


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def im_robot_delete(request: HttpRequest, pk: int) -> HttpResponse:
    robot = _robot(pk)
    services.delete_robot(robot=robot, actor=request.user)
    messages.success(request, _("Robot %(name)s removed.") % {"name": robot.name})
    return redirect("console:im")


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def im_route_add(request: HttpRequest) -> HttpResponse:
    form = _route_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        department = next((d for d in all_departments() if d.pk == data["department"]), None)
        try:
            services.create_route(kind=data["kind"], robot=_robot(data["robot"]),
                                  department=department, actor=request.user)
        except errors.JifenError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Route added."))
    else:
        messages.error(request, _("Choose a notification and a robot."))
    return redirect("console:im")


@require_capability(Cap.MANAGE_API_KEYS)
@require_POST
def im_route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        route = selectors.route(pk)
    except errors.NotFound as exc:
        raise Http404 from exc
    services.delete_route(route=route, actor=request.user)
    messages.success(request, _("Route removed."))
    return redirect("console:im")


@require_capability(Cap.MANAGE_API_KEYS)
@require_http_methods(["GET", "POST"])
def im_app(request: HttpRequest, platform: str) -> HttpResponse:
    """The direct-message app of WeCom or DingTalk."""
    if platform not in DM_PLATFORMS:
        raise Http404
    app = selectors.apps().filter(platform=platform).first()
    initial = ({"client_id": app.client_id, "agent_id": app.agent_id,
                "user_id_source": app.user_id_source, "enabled": app.enabled}
               if app else {"enabled": True})
    form = AppForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_app(platform=platform, client_id=data["client_id"],
                              agent_id=data["agent_id"], secret=data["secret"] or None,
                              user_id_source=data["user_id_source"], enabled=data["enabled"],
                              actor=request.user)
        except errors.JifenError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Direct messages settings saved."))
            return redirect("console:im")
    return render(request, "integrations/im/app.html", {
        "form": form, "platform": platform, "platform_label": ImPlatform(platform).label,
        "app": app,
    })
