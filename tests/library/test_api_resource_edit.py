"""POST /library/resources/{id}: the API twin of the console's resource edit form."""

from __future__ import annotations

import pytest

from jifen.core.models import AuditEntry
from jifen.library.models import Resource
from tests.library.test_resources_api import bearer

pytestmark = pytest.mark.django_db


def _edit(client, resource_id: int, fields: dict, who):
    return client.post(f"/api/v1/library/resources/{resource_id}", fields, **bearer(who))


def test_an_editor_changes_only_the_fields_sent(client, make_resource, editor):
    resource = make_resource()
    answer = _edit(client, resource.pk, {"title": "季度绩效面谈模板", "price": "35"}, editor)
    assert answer.status_code == 200, answer.content
    assert answer.json()["title"] == "季度绩效面谈模板"
    stored = Resource.objects.get(pk=resource.pk)
    assert (stored.title, stored.price) == ("季度绩效面谈模板", 35)
    assert stored.description == resource.description
    assert AuditEntry.objects.filter(action="library.resource.update").count() == 1


@pytest.mark.parametrize("fields", [{"price": "-3"}, {"price": "abc"}, {"title": ""},
                                    {"category": "999999"}])
def test_bad_input_is_a_422_and_nothing_changes(client, make_resource, editor, fields):
    resource = make_resource()
    answer = _edit(client, resource.pk, fields, editor)
    assert answer.status_code == 422, answer.content
    stored = Resource.objects.get(pk=resource.pk)
    assert (stored.title, stored.price) == (resource.title, resource.price)


def test_an_unknown_resource_is_a_404(client, editor):
    assert _edit(client, 999999, {"title": "x"}, editor).status_code == 404


def test_a_buyer_may_not_edit(client, make_resource, buyer):
    resource = make_resource()
    assert _edit(client, resource.pk, {"title": "mine now"}, buyer).status_code == 403
    assert Resource.objects.get(pk=resource.pk).title == resource.title
