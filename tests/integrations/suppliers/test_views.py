"""Console → Suppliers: the same services as /api/v1/suppliers, for a person."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.core.roles import Role
from jifen.integrations.models import Supplier, SupplierItem
from jifen.integrations.suppliers import services
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus

pytestmark = pytest.mark.django_db
URL = "/console/suppliers/"


@pytest.fixture
def boss(client, super_admin, settings):
    settings.JIFEN_OUTBOUND_ALLOW_HOSTS = ["127.0.0.1"]
    client.force_login(super_admin.user)
    return super_admin


@pytest.fixture
def ticket(make_role_employee):
    admin = make_role_employee(Role.MALL_ADMIN)
    return mall.create_item(actor=admin.user, name="电影票", points=30,
                            category=mall.save_category(actor=admin.user, name="票务"),
                            status=ItemStatus.LISTED, fulfilment=Fulfilment.SERVICE)


def test_a_new_supplier_shows_its_secret_once(client, boss):
    assert reverse("console:suppliers") == URL
    added = client.post(URL, {"action": "create", "name": "影城",
                              "url": "http://127.0.0.1:9/fulfil"})
    assert added.status_code == 200 and added["Cache-Control"] == "no-store"
    secret = added.context["plain_secret"]
    assert secret.startswith("whsec_") and secret in added.content.decode()
    assert secret not in client.get(URL).content.decode()
    assert Supplier.objects.get().name == "影城"


def test_a_private_address_is_refused_on_the_form(client, boss):
    refused = client.post(URL, {"action": "create", "name": "内网", "url": "http://10.0.0.8/f"})
    assert refused.context["form"].errors["url"]
    assert not Supplier.objects.exists()


def test_items_are_handed_over_and_taken_back_and_the_supplier_paused(client, boss, ticket):
    supplier, _secret = services.create_supplier(name="影城", url="http://127.0.0.1:9/f",
                                                 actor=None)
    client.post(URL, {"action": "link", "supplier": supplier.pk, "item": ticket.pk})
    assert SupplierItem.objects.get(item_id=ticket.pk).supplier == supplier
    assert "电影票" in client.get(URL).content.decode()
    client.post(URL, {"action": "update", "supplier": supplier.pk, "name": "万达影城",
                      "url": "http://127.0.0.1:9/f"})  # "Active" unticked: paused
    supplier.refresh_from_db()
    assert (supplier.name, supplier.is_active) == ("万达影城", False)
    client.post(URL, {"action": "unlink", "supplier": supplier.pk, "item": ticket.pk})
    assert not SupplierItem.objects.exists()


def test_a_bad_change_says_why_and_changes_nothing(client, boss):
    supplier, _secret = services.create_supplier(name="影城", url="http://127.0.0.1:9/f",
                                                 actor=None)
    answer = client.post(URL, {"action": "update", "supplier": supplier.pk, "name": "影城",
                               "url": "http://192.168.1.5/f", "is_active": "on"}, follow=True)
    assert any(m.level_tag == "error" for m in answer.context["messages"])
    supplier.refresh_from_db()
    assert supplier.url == "http://127.0.0.1:9/f"
    gone = client.post(URL, {"action": "link", "supplier": 999999, "item": 1}, follow=True)
    assert any(m.level_tag == "error" for m in gone.context["messages"])


def test_only_those_who_manage_integrations_see_it(client, hr_admin):
    client.force_login(hr_admin.user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "create", "name": "x",
                             "url": "http://127.0.0.1:9/f"}).status_code == 403
    assert not Supplier.objects.exists()
