"""A real OpenID Connect provider for the tests: tests/identity/oidc_provider (a Django
project with django-oauth-toolkit) started as a subprocess on a free 127.0.0.1 port, with
its own SQLite file and an RSA key generated here, once per test session."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_ID = "testidp"
IDP_PASSWORD = "Idp-Passw0rd-2026"
# People at the identity provider; their username is sent as the employee_no claim.
IDP_USERS = [
    {"username": "E90001", "password": IDP_PASSWORD, "email": "zhangwei@example.com"},
    {"username": "E90002", "password": IDP_PASSWORD, "email": "lisi@example.com"},
    {"username": "E90404", "password": IDP_PASSWORD, "email": "stranger@example.com"},
]


@dataclass
class IdentityProvider:
    url: str  # the issuer base, …/o
    client_id: str
    client_secret: str
    private_key_pem: bytes
    process: subprocess.Popen = field(repr=False)

    @property
    def server_url(self) -> str:
        return self.url

    def discovery(self) -> dict:
        return requests.get(f"{self.url}/.well-known/openid-configuration", timeout=10).json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory, live_server) -> IdentityProvider:
    folder = tmp_path_factory.mktemp("idp")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (folder / "key.pem").write_bytes(pem)
    port = _free_port()
    callback = reverse("openid_connect_callback", kwargs={"provider_id": PROVIDER_ID})
    env = {
        **os.environ,
        "IDP_DATABASE": str(folder / "idp.sqlite3"),
        "IDP_KEY_FILE": str(folder / "key.pem"),
        "IDP_PORT": str(port),
        "IDP_CLIENT_ID": "jifen-client",
        "IDP_CLIENT_SECRET": "jifen-client-secret-0123456789",
        # The browser tests reach jifen's live server; the test client calls it testserver.
        "IDP_REDIRECT_URIS": f"{live_server.url}{callback} http://testserver{callback}",
        "IDP_USERS": json.dumps(IDP_USERS),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/identity/oidc_provider/run.py")], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if "READY" in line:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the test identity provider did not start: {line}"
                        f"{process.stdout.read() if process.poll() is not None else ''}")
    provider = IdentityProvider(url=f"http://127.0.0.1:{port}/o", client_id=env["IDP_CLIENT_ID"],
                                client_secret=env["IDP_CLIENT_SECRET"], private_key_pem=pem,
                                process=process)
    yield provider
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def oidc_app(oidc_provider, db):
    """The test provider configured in jifen as an admin would, linking by employee_no."""
    from jifen.core.roles import Role
    from jifen.people.sso import services
    from tests.factories import EmployeeFactory

    admin = EmployeeFactory(roles=[Role.SUPER_ADMIN])
    return services.save_provider(
        actor=admin.user, provider="openid_connect", provider_id=PROVIDER_ID,
        name="Test IdP", server_url=oidc_provider.server_url,
        client_id=oidc_provider.client_id, secret=oidc_provider.client_secret,
        link_claim="employee_no", link_field="employee_no")
