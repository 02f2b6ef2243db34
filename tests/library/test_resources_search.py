"""Search finds Chinese words inside titles and descriptions — the same on SQLite,
PostgreSQL and MariaDB (run this file with JIFEN_DATABASE_URL set to each)."""

from __future__ import annotations

import pytest

from jifen.library.models import ResourceStatus
from jifen.library.selectors import resources as selectors
from jifen.library.services import resources as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(make_resource, editor):
    category = services.save_category(actor=editor.user, name="绩效管理")
    return {
        "interview": make_resource(title="绩效面谈模板", description="季度面谈的提纲与记录表",
                                   category=category, tags="模板,经理"),
        "recruit": make_resource(title="招聘技巧大全", description="结构化面试、人才画像",
                                 price=0),
        "sales": make_resource(title="销售岗绩效提升指南", description="一线销售的改进方法",
                               tags="销售"),
        "draft": make_resource(title="绩效草稿", status=ResourceStatus.DRAFT),
    }


def titles(employee, **filters) -> set[str]:
    return {r.title for r in selectors.search(employee, **filters)}


def test_a_word_inside_a_title(shelf, employee):
    assert titles(employee, query="面谈") == {"绩效面谈模板"}
    assert titles(employee, query="绩效") == {"绩效面谈模板", "销售岗绩效提升指南"}


def test_a_word_inside_a_description_tag_or_category(shelf, employee):
    assert titles(employee, query="人才画像") == {"招聘技巧大全"}
    assert titles(employee, query="经理") == {"绩效面谈模板"}
    assert titles(employee, query="绩效管理") == {"绩效面谈模板"}


def test_every_word_must_match_and_width_and_spaces_do_not_matter(shelf, employee):
    assert titles(employee, query="绩效 销售") == {"销售岗绩效提升指南"}
    # An ideographic space separates words as well.
    assert titles(employee, query="销售岗 绩效\u3000提升") == {"销售岗绩效提升指南"}
    assert titles(employee, query="绩效 招聘") == set()


def test_filters_by_price_category_and_tag(shelf, employee):
    assert titles(employee, price="free") == {"招聘技巧大全"}
    assert titles(employee, price="paid") == {"绩效面谈模板", "销售岗绩效提升指南"}
    assert titles(employee, category_id=shelf["interview"].category_id) == {"绩效面谈模板"}
    assert titles(employee, tag="销售") == {"销售岗绩效提升指南"}


def test_the_library_page_searches_too(shelf, employee):
    from django.urls import reverse

    from tests.conftest import login_client

    page = login_client(employee.user).get(reverse("portal:library"), {"q": "面试"})
    text = page.content.decode()
    assert "招聘技巧大全" in text and "绩效面谈模板" not in text
