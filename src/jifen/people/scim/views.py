"""The SCIM 2.0 endpoints under /scim/v2/ (RFC 7644): thin views that authenticate the
provisioning client, parse, call one service or selector and answer application/scim+json.
Every failure is an RFC 7644 error document, never a 500 for bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from jifen.core.apiauth import Principal, authenticate_token
from jifen.people.models import Department, Employee, EmployeeStatus
from jifen.people.scim import services
from jifen.people.scim.errors import ScimError, bad_request, not_found, scim_response
from jifen.people.scim.filters import Field, parse_filter
from jifen.people.scim.patch import canonicalise
from jifen.people.scim.representation import group_resource, user_resource
from jifen.people.scim.schema import (
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE,
    LIST_RESPONSE,
    MAX_RESULTS,
    SCHEMAS,
    SEARCH_REQUEST,
    resource_types,
    schemas,
    service_provider_config,
)
from jifen.people.scim.selectors import scim_groups, scim_users

SCOPE = "scim"
MAX_BODY = 1_000_000

USER_FIELDS: dict[str, Field] = {
    "id": Field("pk", "int"),
    "username": Field("user__username"),
    "externalid": Field("scim__external_id", case_exact=True),
    "name.formatted": Field("name"),
    "displayname": Field("name"),
    "title": Field("position"),
    "emails": Field("email"),
    "emails.value": Field("email"),
    "phonenumbers": Field("phone"),
    "phonenumbers.value": Field("phone"),
    "active": Field("status", "bool", bool_q=lambda v: Q(
        status=EmployeeStatus.ACTIVE if v else EmployeeStatus.LEFT)),
    "enterprise:employeenumber": Field("employee_no", case_exact=True),
    "enterprise:department": Field("department__name"),
    "enterprise:manager.value": Field("scim__manager_ref", case_exact=True),
    "enterprise:manager": Field("scim__manager_ref", case_exact=True),
    "meta.created": Field("created_at", "datetime"),
    "meta.lastmodified": Field("updated_at", "datetime"),
}
GROUP_FIELDS: dict[str, Field] = {
    "id": Field("pk", "int"),
    "displayname": Field("name"),
    "externalid": Field("scim__external_id", case_exact=True),
    "members": Field("employees__pk", "int"),
    "members.value": Field("employees__pk", "int"),
    "meta.created": Field("created_at", "datetime"),
    "meta.lastmodified": Field("updated_at", "datetime"),
}


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/scim/v2").rstrip("/")


# --- attribute projection ----------------------------------------------------------------

ALWAYS = {"id", "schemas"}


def _top(path: str) -> str:
    lowered = path.strip().lower()
    if lowered.startswith(ENTERPRISE.lower()):
        return ENTERPRISE
    for core in (CORE_USER, CORE_GROUP):
        if lowered.startswith(core.lower() + ":"):
            lowered = lowered[len(core) + 1:]
    return lowered.split(".")[0]


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part for part in str(value).split(",") if part.strip()]


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str],
            ) -> dict[str, Any]:
    if attributes:
        wanted = {_top(a) for a in attributes} | ALWAYS
        return {k: v for k, v in resource.items()
                if (k == ENTERPRISE and ENTERPRISE in wanted) or k.lower() in wanted}
    if excluded:
        dropped = {_top(a) for a in excluded} - ALWAYS
        return {k: v for k, v in resource.items()
                if not (k.lower() in dropped or (k == ENTERPRISE and ENTERPRISE in dropped))}
    return resource


# --- request plumbing --------------------------------------------------------------------


def _authenticate(request: HttpRequest) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ScimError(401, "A bearer token is required.")
    found = authenticate_token(token.strip())
    if found is None:
        raise ScimError(401, "The bearer token is not valid.")
    if found.kind != "system" or not found.can(SCOPE):
        raise ScimError(403, "This token may not provision: an API key with the scim scope "
                             "is required.")
    return found


def _body(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY:
        raise ScimError(413, "The request body is too large.")
    try:
        return canonicalise(json.loads(request.body or b"null"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("The body is not valid JSON.", "invalidSyntax") from exc


def _resource_body(request: HttpRequest) -> dict[str, Any]:
    body = _body(request)
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.", "invalidSyntax")
    return body


def _int_param(value: Any, default: int, name: str) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(f"{name} must be an integer.", "invalidValue") from exc


def scim_view(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            principal = _authenticate(request)
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                services.ensure_lock_row()
            return func(request, principal, *args, **kwargs)
        except ScimError as exc:
            return exc.response()
        except IntegrityError:
            # Two clients creating the same userName or number at once: the loser's
            # transaction was rolled back whole.
            return ScimError(409, "A unique attribute is already taken.", "uniqueness").response()

    view.__name__ = func.__name__
    view.__doc__ = func.__doc__
    return view


def _method_not_allowed() -> HttpResponse:
    return ScimError(405, "This method is not allowed here.").response()


def _list(request: HttpRequest, queryset: QuerySet[Any], fields: dict[str, Field],
          render: Callable[[Any], dict[str, Any]], params: dict[str, Any]) -> HttpResponse:
    text = params.get("filter")
    if text not in (None, ""):
        if not isinstance(text, str):
            raise bad_request("filter must be a string.", "invalidFilter")
        queryset = queryset.filter(pk__in=queryset.filter(parse_filter(text, fields))
                                   .values("pk"))
    start = max(1, _int_param(params.get("startIndex"), 1, "startIndex"))
    count = min(MAX_RESULTS, max(0, _int_param(params.get("count"), MAX_RESULTS, "count")))
    total = queryset.count()
    page = list(queryset.order_by("pk")[start - 1:start - 1 + count]) if count else []
    attributes = _names(params.get("attributes"))
    excluded = _names(params.get("excludedAttributes"))
    return scim_response({
        "schemas": [LIST_RESPONSE], "totalResults": total, "startIndex": start,
        "itemsPerPage": len(page),
        "Resources": [project(render(item), attributes, excluded) for item in page],
    })


def _search_params(request: HttpRequest) -> dict[str, Any]:
    body = _resource_body(request)
    schemas_ = body.get("schemas")
    if schemas_ is not None and (not isinstance(schemas_, list) or SEARCH_REQUEST not in schemas_):
        raise bad_request(f"A search body's schemas must include {SEARCH_REQUEST}.",
                          "invalidSyntax")
    return {"filter": body.get("filter"), "startIndex": body.get("startIndex"),
            "count": body.get("count"), "attributes": body.get("attributes"),
            "excludedAttributes": body.get("excludedAttributes")}


def _created(resource: dict[str, Any]) -> HttpResponse:
    answer = scim_response(resource, status=201)
    answer["Location"] = resource["meta"]["location"]
    return answer


# --- users -------------------------------------------------------------------------------


def _user(pk: str) -> Employee:
    if not pk.isdigit():
        raise not_found(f"No user {pk}.")
    found = scim_users().filter(pk=int(pk)).first()
    if found is None:
        raise not_found(f"No user {pk}.")
    return found


def _user_answer(request: HttpRequest, employee: Employee, status: int = 200) -> HttpResponse:
    fresh = scim_users().filter(pk=employee.pk).first() or employee
    resource = user_resource(fresh, base_url(request))
    if status == 201:
        return _created(resource)
    return scim_response(project(resource, _names(request.GET.get("attributes")),
                                 _names(request.GET.get("excludedAttributes"))))


@scim_view
def users(request: HttpRequest, principal: Principal) -> HttpResponse:
    base = base_url(request)
    if request.method == "GET":
        return _list(request, scim_users(), USER_FIELDS, lambda e: user_resource(e, base),
                     request.GET.dict())
    if request.method == "POST":
        employee = services.save_user(resource=_resource_body(request), actor=principal)
        return _user_answer(request, employee, status=201)
    return _method_not_allowed()


@scim_view
def users_search(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed()
    base = base_url(request)
    return _list(request, scim_users(), USER_FIELDS, lambda e: user_resource(e, base),
                 _search_params(request))


@scim_view
def user(request: HttpRequest, principal: Principal, pk: str) -> HttpResponse:
    employee = _user(pk)
    if request.method == "GET":
        return _user_answer(request, employee)
    if request.method == "PUT":
        saved = services.save_user(resource=_resource_body(request), actor=principal,
                                   employee=employee)
        return _user_answer(request, saved)
    if request.method == "PATCH":
        saved = services.patch_user(employee=employee, body=_body(request),
                                    base=base_url(request), actor=principal)
        return _user_answer(request, saved)
    if request.method == "DELETE":
        services.delete_user(employee=employee, actor=principal)
        return HttpResponse(status=204)
    return _method_not_allowed()


# --- groups ------------------------------------------------------------------------------


def _group(pk: str) -> Department:
    if not pk.isdigit():
        raise not_found(f"No group {pk}.")
    found = scim_groups().filter(pk=int(pk)).first()
    if found is None:
        raise not_found(f"No group {pk}.")
    return found


def _group_answer(request: HttpRequest, department: Department, status: int = 200,
                  ) -> HttpResponse:
    fresh = scim_groups().filter(pk=department.pk).first() or department
    excluded = _names(request.GET.get("excludedAttributes"))
    attributes = _names(request.GET.get("attributes"))
    with_members = "members" not in {_top(a) for a in excluded} and (
        not attributes or "members" in {_top(a) for a in attributes})
    resource = group_resource(fresh, base_url(request), with_members=with_members)
    if status == 201:
        return _created(resource)
    return scim_response(project(resource, attributes, excluded))


def _group_renderer(base: str, params: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    excluded = {_top(a) for a in _names(params.get("excludedAttributes"))}
    attributes = {_top(a) for a in _names(params.get("attributes"))}
    with_members = "members" not in excluded and (not attributes or "members" in attributes)
    return lambda d: group_resource(d, base, with_members=with_members)


@scim_view
def groups(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method == "GET":
        params = request.GET.dict()
        return _list(request, scim_groups(), GROUP_FIELDS,
                     _group_renderer(base_url(request), params), params)
    if request.method == "POST":
        department = services.save_group(resource=_resource_body(request), actor=principal)
        return _group_answer(request, department, status=201)
    return _method_not_allowed()


@scim_view
def groups_search(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method != "POST":
        return _method_not_allowed()
    params = _search_params(request)
    return _list(request, scim_groups(), GROUP_FIELDS, _group_renderer(base_url(request), params),
                 params)


@scim_view
def group(request: HttpRequest, principal: Principal, pk: str) -> HttpResponse:
    department = _group(pk)
    if request.method == "GET":
        return _group_answer(request, department)
    if request.method == "PUT":
        saved = services.save_group(resource=_resource_body(request), actor=principal,
                                    department=department)
        return _group_answer(request, saved)
    if request.method == "PATCH":
        saved = services.patch_group(department=department, body=_body(request),
                                     base=base_url(request), actor=principal)
        return _group_answer(request, saved)
    if request.method == "DELETE":
        services.delete_group(department=department, actor=principal)
        return HttpResponse(status=204)
    return _method_not_allowed()


@csrf_exempt
def root_search(request: HttpRequest) -> HttpResponse:
    """POST /.search over every resource type at once is optional (RFC 7644 §3.4.3):
    ids are only unique within a type here, so it answers 501."""
    return ScimError(501, "Search /Users/.search or /Groups/.search instead.").response()


# --- discovery ---------------------------------------------------------------------------


def _listed(items: list[dict[str, Any]]) -> HttpResponse:
    return scim_response({"schemas": [LIST_RESPONSE], "totalResults": len(items),
                          "startIndex": 1, "itemsPerPage": len(items), "Resources": items})


@scim_view
def service_provider_config_view(request: HttpRequest, principal: Principal) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    return scim_response(service_provider_config(base_url(request)))


@scim_view
def resource_types_view(request: HttpRequest, principal: Principal,
                        name: str | None = None) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    found = resource_types(base_url(request))
    if name is None:
        return _listed(found)
    for item in found:
        if item["id"] == name:
            return scim_response(item)
    raise not_found(f"No resource type {name}.")


@scim_view
def schemas_view(request: HttpRequest, principal: Principal,
                 schema_id: str | None = None) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    found = schemas(base_url(request))
    if schema_id is None:
        return _listed(found)
    for item in found:
        if item["id"] == schema_id:
            return scim_response(item)
    raise not_found(f"No schema {schema_id}.")


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return not_found("No such SCIM endpoint.").response()


__all__ = ["SCHEMAS"]
