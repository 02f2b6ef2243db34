from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jifen.integrations.services import create_api_key
from jifen.people.services import upsert_department

FIXTURES = Path(__file__).parent / "fixtures"
SCIM_JSON = "application/scim+json"


def load_fixture(name: str, **values: Any) -> Any:
    """A recorded request body, with {placeholders} filled in."""
    text = (FIXTURES / name).read_text()
    for placeholder, value in values.items():
        text = text.replace("{" + placeholder + "}", str(value))
    return json.loads(text)


class ScimClient:
    """The Django test client speaking SCIM with one provisioning key."""

    def __init__(self, token: str):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def _send(self, method: str, path: str, body: Any = None, raw: str | None = None,
              **headers: str):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method)(
            f"/scim/v2{path}", data=data, content_type=SCIM_JSON,
            headers={**self.headers, **headers},
        )

    def get(self, path: str, **params: Any):
        return self.client.get(f"/scim/v2{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None, **kw: Any):
        return self._send("post", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any):
        return self._send("put", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any):
        return self._send("patch", path, body, **kw)

    def delete(self, path: str):
        return self.client.delete(f"/scim/v2{path}", headers=self.headers)


@pytest.fixture
def scim_key(db) -> str:
    return create_api_key(name="Okta provisioning", scopes=["scim"])[1]


@pytest.fixture
def scim(scim_key) -> ScimClient:
    return ScimClient(scim_key)


@pytest.fixture
def sales(db):
    return upsert_department(code="SALES", name="Sales")[0]
