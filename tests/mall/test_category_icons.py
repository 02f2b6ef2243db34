"""A category's icon is chosen from a list, because the icon font carries only the icons the
code names: a typed name outside it would show as an empty square."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from jifen.core import errors
from jifen.mall import services
from jifen.mall.models import CATEGORY_ICONS, Category

pytestmark = pytest.mark.django_db

SHIPPED_ICON_CSS = (Path(__file__).resolve().parents[2] / "src" / "jifen" / "static" / "vendor"
                    / "tabler-icons" / "tabler-icons.min.css")


def test_a_category_icon_outside_the_list_is_refused_and_nothing_is_saved(mall_admin):
    with pytest.raises(errors.ValidationError) as refused:
        services.save_category(actor=mall_admin.user, name="Pets", icon="ti-rocket")
    assert refused.value.details["field"] == "icon"
    assert not Category.objects.filter(name="Pets").exists()
    saved = services.save_category(actor=mall_admin.user, name="Pets", icon="ti-paw")
    assert saved.icon == "ti-paw"


def test_the_category_editor_offers_the_icons_by_name(client, mall_admin):
    client.force_login(mall_admin.user)
    page = client.get(reverse("console:mall_categories")).content.decode()
    select = re.search(r'<select name="icon"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the icon is a choice, not a text box"
    offered = re.findall(r'<option value="(ti-[a-z0-9-]+)"', select.group(1))
    assert offered == [name for name, _label in CATEGORY_ICONS]


@pytest.mark.skipif(not SHIPPED_ICON_CSS.exists(), reason="needs the built assets (make assets)")
def test_every_icon_offered_is_in_the_shipped_icon_font():
    shipped = SHIPPED_ICON_CSS.read_text()
    missing = [name for name, _label in CATEGORY_ICONS if f".{name}:before" not in shipped]
    assert not missing, f"run `make assets`: {missing}"
