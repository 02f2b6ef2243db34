from __future__ import annotations

import pytest
from django.core.management import call_command

from jifen.core import errors
from jifen.core.models import AuditEntry
from jifen.integrations import services
from jifen.integrations.models import ApiKey


@pytest.mark.django_db
def test_cli_prints_the_new_key_alone_on_its_last_line(capsys):
    call_command("apikey", "create", "--name", "HR sync", "--scope", "employees:write",
                 "--scope", "events:write")
    out = capsys.readouterr().out.strip().splitlines()
    plain = out[-1]
    key = services.authenticate_api_key(plain)
    assert key is not None
    assert key.name == "HR sync"
    assert sorted(key.scopes) == ["employees:write", "events:write"]


@pytest.mark.django_db
def test_only_a_hash_of_the_key_is_stored():
    key, plain = services.create_api_key(name="payroll", scopes=["reports:read"])
    stored = ApiKey.objects.get(pk=key.pk)
    assert plain not in (stored.key_hash, stored.prefix)
    assert plain.split("_", 2)[2] not in stored.key_hash


@pytest.mark.django_db
def test_unknown_scope_is_refused_and_nothing_is_created():
    with pytest.raises(errors.ValidationError) as exc:
        services.create_api_key(name="bad", scopes=["employees:write", "root"])
    assert exc.value.details["unknown"] == ["root"]
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoked_key_no_longer_authenticates_and_is_audited(super_admin):
    key, plain = services.create_api_key(name="old", scopes=["admin"], actor=super_admin.user)
    services.revoke_api_key(key=key, actor=super_admin.user)
    assert services.authenticate_api_key(plain) is None
    entry = AuditEntry.objects.get(action="apikey.revoke")
    assert entry.before == {"revoked": False} and entry.after == {"revoked": True}


@pytest.mark.django_db
def test_a_tampered_key_with_a_real_prefix_does_not_authenticate():
    _key, plain = services.create_api_key(name="x", scopes=["admin"])
    assert services.authenticate_api_key(plain[:-2] + "zz") is None
