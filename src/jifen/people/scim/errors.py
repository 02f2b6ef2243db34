"""SCIM error responses (RFC 7644 §3.12): ``{"schemas": [...Error], "status": "400",
"scimType": "invalidFilter", "detail": "..."}``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CONTENT_TYPE = "application/scim+json"


class ScimError(Exception):
    """An answer that is not a success: its HTTP status and, for 400s, the RFC's scimType
    (invalidFilter, invalidSyntax, invalidPath, invalidValue, mutability, uniqueness,
    noTarget, tooMany, invalidVers)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def response(self) -> HttpResponse:
        body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status),
                                "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        answer = scim_response(body, status=self.status)
        if self.status == 401:
            answer["WWW-Authenticate"] = 'Bearer realm="scim"'
        return answer


def scim_response(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                        content_type=CONTENT_TYPE)


def bad_request(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def not_found(detail: str = "Resource not found.") -> ScimError:
    return ScimError(404, detail)
