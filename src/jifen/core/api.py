"""/api/v1 twins of the console's site settings and audit log: the same services and
selectors as Console → Settings and Console → Audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jifen.core import errors, selectors, services
from jifen.core.apiauth import Principal, principal
from jifen.core.images import PictureField
from jifen.core.models import SiteSettings
from jifen.core.pagination import CursorPage, paginate
from jifen.core.roles import Cap
from jifen.core.schema_types import UrlInt

router = Router(tags=["settings"])

_LOGO_UPLOAD = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["logo"],
    "properties": {"logo": {"type": "string", "format": "binary",
                            "description": "A PNG or JPG image."}}}}}}}


class SiteSettingsOut(Schema):
    platform_name: str
    logo_url: str = Field(description="Empty when there is no logo.")
    primary_color: str
    contact: str
    point_unit_zh: str
    point_unit_en: str
    decimals: int
    decimals_locked: bool = Field(description="True once points exist: decimals are fixed.")
    default_language: str


class SiteSettingsPatch(Schema):
    platform_name: str | None = Field(None, max_length=60)
    primary_color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")
    contact: str | None = Field(None, max_length=200)
    point_unit_zh: str | None = Field(None, max_length=10)
    point_unit_en: str | None = Field(None, max_length=20)
    decimals: int | None = Field(None, ge=0, le=2)
    default_language: Literal["zh-hans", "en"] | None = None


def _settings_out(current: SiteSettings | None = None) -> dict[str, Any]:
    current = current or selectors.site_settings()
    return SiteSettingsOut(
        platform_name=current.platform_name,
        logo_url=current.logo.url if current.logo else "",
        primary_color=current.primary_color, contact=current.contact,
        point_unit_zh=current.point_unit_zh, point_unit_en=current.point_unit_en,
        decimals=current.decimals, decimals_locked=services.points_exist(),
        default_language=current.default_language,
    ).model_dump()


def _update(caller: Principal, changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        return _settings_out()
    return _settings_out(services.update_site_settings(actor=caller.actor, **changes))


@router.get("/settings", response=SiteSettingsOut)
def get_settings(request: HttpRequest) -> dict[str, Any]:
    """The platform's name, colour, point unit, decimals and default language."""
    principal(request).require("admin")
    return _settings_out()


@router.patch("/settings", response=SiteSettingsOut)
def change_settings(request: HttpRequest, payload: SiteSettingsPatch) -> dict[str, Any]:
    """Change the fields given. 409 ``decimals_locked`` when decimals change after points
    were issued; 422 with ``details.fields`` for a value the page would refuse."""
    caller = principal(request)
    caller.require("admin")
    return _update(caller, payload.model_dump(exclude_none=True))


class _LogoForm(forms.Form):
    logo = PictureField()


@router.post("/settings/logo", response=SiteSettingsOut, openapi_extra=_LOGO_UPLOAD)
def upload_logo(request: HttpRequest) -> dict[str, Any]:
    """Replace the logo (multipart ``logo``), checked as the settings page checks it."""
    caller = principal(request)
    caller.require("admin")
    form = _LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        raise errors.ValidationError(" ".join(form.errors.get("logo", [])) or
                                     _("Please correct the settings."),
                                     details={"fields": form.errors.get_json_data()})
    return _update(caller, {"logo": form.cleaned_data["logo"]})


@router.delete("/settings/logo", response=SiteSettingsOut)
def remove_logo(request: HttpRequest) -> dict[str, Any]:
    """Go back to the platform's name in the header."""
    caller = principal(request)
    caller.require("admin")
    return _update(caller, {"logo": ""} if selectors.site_settings().logo else {})


# --- the audit log ----------------------------------------------------------------------


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: str = Field(description="Who: a person's name, an API key's label, or empty for "
                                   "the platform itself.")
    action: str = Field(description="e.g. settings.update, apikey.create, order.approve.")
    object_type: str
    object_id: str
    object: str
    before: dict | None
    after: dict | None
    ip_address: str | None


class AuditFilters(Schema):
    q: str = Field("", max_length=100, description="In the object, its id or the actor.")
    action: str = Field("", max_length=64)
    actor: str = Field("", max_length=100)
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: UrlInt = Field(default=50, ge=1, le=200)


@router.get("/audit", response=CursorPage[AuditEntryOut], tags=["audit"])
def audit_log(request: HttpRequest, filters: Query[AuditFilters]) -> dict[str, Any]:
    """The audit log, newest first (auditors and super admins; keys with ``admin``)."""
    caller = principal(request)
    caller.require_scope_or_capability(
        "admin", Cap.VIEW_AUDIT, message=_("Only auditors and super admins read the audit log."))
    entries = selectors.search_audit_log(q=filters.q.strip(), action=filters.action,
                                         actor=filters.actor, since=filters.since,
                                         until=filters.until)
    page = paginate(entries, cursor=filters.cursor, limit=filters.limit, key="pk",
                    descending=True)
    page["items"] = [AuditEntryOut(
        id=e.pk, at=e.created_at, actor=e.actor_label, action=e.action,
        object_type=e.object_type, object_id=e.object_id, object=e.object_repr,
        before=e.before, after=e.after, ip_address=e.ip_address,
    ).model_dump() for e in page["items"]]
    return page
