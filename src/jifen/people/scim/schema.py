"""The discovery documents: ServiceProviderConfig, ResourceTypes and Schemas, describing
exactly the attributes this server keeps (RFC 7643 §5–7). Attributes an identity provider
sends that are not listed (nickName, addresses, e-mail types …) are accepted and ignored."""

from __future__ import annotations

from typing import Any

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

MAX_RESULTS = 200


def _attr(name: str, type_: str = "string", *, multi: bool = False, required: bool = False,
          mutability: str = "readWrite", returned: str = "default", uniqueness: str = "none",
          case_exact: bool = False, sub: list[dict[str, Any]] | None = None,
          reference_types: list[str] | None = None, description: str = "") -> dict[str, Any]:
    attr: dict[str, Any] = {
        "name": name, "type": type_, "multiValued": multi, "description": description,
        "required": required, "caseExact": case_exact, "mutability": mutability,
        "returned": returned, "uniqueness": uniqueness,
    }
    if sub is not None:
        attr["subAttributes"] = sub
    if reference_types is not None:
        attr["referenceTypes"] = reference_types
    return attr


USER_SCHEMA = {
    "schemas": [SCHEMA],
    "id": CORE_USER, "name": "User", "description": "An employee",
    "attributes": [
        _attr("userName", required=True, uniqueness="server",
              description="The sign-in name of the employee's account"),
        _attr("name", "complex", sub=[
            _attr("formatted", description="The full name (the employee's name)"),
            _attr("givenName"),
            _attr("familyName"),
        ]),
        _attr("displayName", mutability="readOnly",
              description="The employee's name (set it through name)"),
        _attr("title", description="The position"),
        _attr("active", "boolean", description="false off-boards the employee"),
        _attr("emails", "complex", multi=True, sub=[_attr("value")]),
        _attr("phoneNumbers", "complex", multi=True, sub=[_attr("value")]),
        _attr("groups", "complex", multi=True, mutability="readOnly", sub=[
            _attr("value", mutability="readOnly"),
            _attr("$ref", "reference", mutability="readOnly", reference_types=["Group"]),
            _attr("display", mutability="readOnly"),
        ], description="The employee's department"),
    ],
    "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{CORE_USER}"},
}

ENTERPRISE_SCHEMA = {
    "schemas": [SCHEMA],
    "id": ENTERPRISE, "name": "EnterpriseUser", "description": "Enterprise user",
    "attributes": [
        _attr("employeeNumber", uniqueness="server",
              description="The employee number (the key HR systems use)"),
        _attr("department", description="The department's code or name"),
        _attr("manager", "complex", sub=[
            _attr("value", description="The manager's id, externalId, employee number or "
                                        "userName"),
        ]),
    ],
    "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{ENTERPRISE}"},
}

GROUP_SCHEMA = {
    "schemas": [SCHEMA],
    "id": CORE_GROUP, "name": "Group", "description": "A department",
    "attributes": [
        _attr("displayName", required=True, description="The department's name"),
        _attr("members", "complex", multi=True, sub=[
            _attr("value", mutability="immutable"),
            _attr("$ref", "reference", mutability="immutable", reference_types=["User"]),
        ], description="The employees of the department"),
    ],
    "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{CORE_GROUP}"},
}

SCHEMAS = {CORE_USER: USER_SCHEMA, ENTERPRISE: ENTERPRISE_SCHEMA, CORE_GROUP: GROUP_SCHEMA}


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {"schemas": [RESOURCE_TYPE], "id": "User", "name": "User", "endpoint": "/Users",
         "description": "Employees", "schema": CORE_USER,
         "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
         "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"}},
        {"schemas": [RESOURCE_TYPE], "id": "Group", "name": "Group", "endpoint": "/Groups",
         "description": "Departments", "schema": CORE_GROUP, "schemaExtensions": [],
         "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"}},
    ]


def schemas(base: str) -> list[dict[str, Any]]:
    found = []
    for schema in SCHEMAS.values():
        copy = dict(schema)
        copy["meta"] = {"resourceType": "Schema", "location": f"{base}/Schemas/{schema['id']}"}
        found.append(copy)
    return found


def service_provider_config(base: str) -> dict[str, Any]:
    return {
        "schemas": [SPC],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{
            "type": "oauthbearertoken", "name": "Bearer token",
            "description": "An API key with the scim scope: Authorization: Bearer <key>",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig",
                 "location": f"{base}/ServiceProviderConfig"},
    }
