"""The JSON API at /api/v1: mounts each app's router and maps domain errors to HTTP once."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jifen.activities.api import router as activities_router
from jifen.core import errors
from jifen.core.api import router as core_router
from jifen.core.api_errors import error_response, renderer, status_for
from jifen.core.apiauth import BearerAuth, RateLimitExceeded
from jifen.core.db import database_reachable
from jifen.core.imports.api import router as imports_router
from jifen.core.middleware import payload_too_large
from jifen.core.observability.api import router as system_router
from jifen.core.observability.selectors import readiness
from jifen.earning.api import router as earning_router
from jifen.insights.api.dashboards import router as insights_dashboards_router
from jifen.insights.api.leaderboard import router as leaderboard_router
from jifen.insights.api.payroll import router as payroll_router
from jifen.insights.api.recommend import router as recommend_router
from jifen.integrations.api_keys import router as api_keys_router
from jifen.integrations.api_suppliers import router as suppliers_router
from jifen.integrations.api_webhooks import router as webhooks_router
from jifen.integrations.im.api import router as im_router
from jifen.ledger.api import router as ledger_router
from jifen.library.api import router as library_router
from jifen.mall.api import router as mall_router
from jifen.notifications.api import router as notifications_router
from jifen.people.api import router as people_router
from jifen.people.sso.api import router as sso_router

logger = logging.getLogger(__name__)


# What every operation may answer besides its own success, all in the error shape: the
# OpenAPI document declares them once here for every operation, so a client (and the
# schemathesis gate, tests/test_api_fuzz.py) knows every status it can meet.
COMMON_ERRORS: dict[int, str] = {
    400: "Malformed request: the body is not JSON, or text holds a NUL character.",
    401: "No valid token in the Authorization header (or wrong credentials).",
    403: "The caller may not do this (a missing scope or capability).",
    404: "Not found, or not the caller's to see.",
    409: "The current state forbids it: insufficient points, out of stock, a step not "
         "allowed from the order's state, a duplicate …",
    413: "The request body is larger than the API accepts (payload_too_large).",
    422: "The input breaks a rule: the details name the field.",
    429: "Too many attempts; see Retry-After.",
}

_ERROR_SCHEMAS = {
    "ErrorBody": {
        "type": "object", "title": "ErrorBody",
        "properties": {
            "code": {"type": "string", "description": "Stable, e.g. insufficient_points."},
            "message": {"type": "string", "description": "In the reader's language."},
            "details": {"type": "object", "additionalProperties": True},
        },
        "required": ["code", "message", "details"],
    },
    "Error": {
        "type": "object", "title": "Error",
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
        "required": ["error"], "additionalProperties": False,
    },
}


_BOUND_NAMES = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum",
                "lt": "exclusiveMaximum"}


class JifenAPI(NinjaAPI):
    def create_response(self, request: HttpRequest, data: Any, *args: Any,
                        **kwargs: Any) -> HttpResponse:
        response = super().create_response(request, data, *args, **kwargs)
        # The caller's minute so far (jifen.core.apiauth.count_call), on every answer.
        if (counted := getattr(request, "rate_limit", None)) is not None:
            limit, remaining, reset = counted
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(_ERROR_SCHEMAS)
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    # ninja writes an Annotated path parameter's bounds under pydantic's
                    # names, which JSON Schema does not know: a client never saw them.
                    bounds = parameter.get("schema", {})
                    for ours, theirs in _BOUND_NAMES.items():
                        if ours in bounds:
                            bounds[theirs] = bounds.pop(ours)
                responses = operation.setdefault("responses", {})
                for status, description in COMMON_ERRORS.items():
                    responses.setdefault(status, {"description": description, "content": error})
        return schema


api = JifenAPI(
    renderer=renderer,
    title="jifen API",
    version="1.0.0",
    description="Employee points and rewards platform. Authenticate with "
    "`Authorization: Bearer <token>`: an employee token from `POST /auth/token` or a "
    "system API key from `jifen apikey create`.",
    urls_namespace="api-v1",
    auth=BearerAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class ErrorBody(Schema):
    code: str
    message: str
    details: dict = {}


class ErrorOut(Schema):
    error: ErrorBody


@api.exception_handler(errors.JifenError)
def on_domain_error(request: HttpRequest, exc: errors.JifenError) -> HttpResponse:
    response = error_response(request, status_for(exc), exc.code, exc.message, exc.details)
    if isinstance(exc, errors.RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, RateLimitExceeded):
        response["RateLimit-Limit"] = str(exc.limit)
        response["RateLimit-Remaining"] = "0"
        response["RateLimit-Reset"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request, 401, errors.ErrorCode.UNAUTHENTICATED,
        _("Send a valid token in the Authorization header: Bearer <token>."),
    )
    response["WWW-Authenticate"] = 'Bearer realm="jifen"'
    return response


def _describe(error: dict) -> dict:
    location = [str(part) for part in error.get("loc", ())]
    # ninja prefixes the location with where it came from (body / query / path / header)
    # and, in a body, with the handler's parameter name, which the caller never wrote.
    skip = 2 if len(location) > 2 and location[0] == "body" else 1
    return {"field": ".".join(location[skip:] if len(location) > 1 else location),
            "in": location[0] if location else "", "message": error.get("msg", "")}


@api.exception_handler(NinjaValidationError)
def on_invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = [_describe(e) for e in exc.errors]
    if any(p["message"].lower().startswith("json") or "decode" in p["message"].lower()
           for p in problems):
        return error_response(request, 400, errors.ErrorCode.MALFORMED_REQUEST,
                              _("The request body is not valid JSON."), {"errors": problems})
    first = problems[0] if problems else {"field": "", "message": ""}
    message = _("Invalid value for %(field)s: %(message)s") % first if first["field"] else (
        first["message"] or _("The request is not valid.")
    )
    return error_response(request, 422, errors.ErrorCode.VALIDATION_ERROR, message,
                          {"errors": problems})


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: errors.ErrorCode.MALFORMED_REQUEST, 404: errors.ErrorCode.NOT_FOUND,
            405: errors.ErrorCode.METHOD_NOT_ALLOWED}.get(exc.status_code, errors.ErrorCode.ERROR)
    return error_response(request, exc.status_code, code, str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, errors.ErrorCode.NOT_FOUND, _("Not found."))


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Normally answered by ApiErrorShapeMiddleware from the declared length; this covers a
    # form body whose fields add up past the limit.
    return payload_too_large()


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # The database refused a value the schema let through (too long for its column, out of
    # range): the caller's input, not our failure.
    logger.warning("Database refused a value in %s %s: %s", request.method, request.path, exc)
    return error_response(request, 422, errors.ErrorCode.INVALID_VALUE,
                          _("A value is too long or out of range."))


@api.exception_handler(OverflowError)
def on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # A safety net behind the schemas' bounds: a number too big for SQLite's driver, or a
    # time with no equivalent in UTC or the site's zone, that some schema let through. It
    # is the caller's input, as with DataError; logged with its trace so the schema that
    # let it through gets its bound.
    logger.warning("Value out of range in %s %s: %s", request.method, request.path, exc,
                   exc_info=exc)
    return error_response(request, 422, errors.ErrorCode.INVALID_VALUE,
                          _("A value is too long or out of range."))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if settings.DEBUG and getattr(settings, "JIFEN_RAISE_API_ERRORS", False):
        raise exc
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return error_response(request, 500, errors.ErrorCode.INTERNAL_ERROR,
                          _("Something went wrong on our side. It has been logged."))


class HealthOut(Schema):
    status: str
    database: str


@api.get("/health", auth=None, response=HealthOut, tags=["system"])
def health(request: HttpRequest) -> dict:
    """Liveness and database reachability, for load balancers and monitors."""
    database = "ok" if database_reachable() else "unavailable"
    return {"status": "ok" if database == "ok" else "degraded", "database": database}


class ReadyOut(Schema):
    status: str
    database: str
    migrations: str
    worker: str


@api.get("/health/ready", auth=None, response={200: ReadyOut, 503: ReadyOut}, tags=["system"])
def ready(request: HttpRequest) -> tuple[int, dict]:
    """Readiness: the database answers, every migration is applied and a worker was heard
    from within a minute; 503 with the same body otherwise (docs/operations.md)."""
    result = readiness()
    return (200 if result["status"] == "ready" else 503), result


api.add_router("", people_router)
api.add_router("", sso_router)
api.add_router("", ledger_router)
api.add_router("", earning_router)
api.add_router("", mall_router)
api.add_router("", activities_router)
api.add_router("", library_router)
api.add_router("", insights_dashboards_router)
api.add_router("", payroll_router)
api.add_router("", system_router)
api.add_router("", im_router)
api.add_router("", webhooks_router)
api.add_router("", suppliers_router)
api.add_router("", api_keys_router)
api.add_router("", core_router)
api.add_router("", leaderboard_router)
api.add_router("", recommend_router)
api.add_router("", notifications_router)
api.add_router("", imports_router)
