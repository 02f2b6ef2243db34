"""The portal's leaderboard page: replaces the placeholder, shows the board with the
viewer highlighted and their own rank, filters by period/scope/category (also as an htmx
fragment), and lets the employee hide their name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jifen.insights.selectors.leaderboard import is_hidden
from jifen.insights.services import rollups
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    hq = DepartmentFactory(code="HQ", name="HQ")
    me = EmployeeFactory(department=hq, name="Me Myself")
    rival = EmployeeFactory(department=hq, name="Rival")
    earn(me, 10, category="learning")
    earn(rival, 25, category="teamwork")
    rollups.fold_pending()
    return {"me": me, "rival": rival}


def page(client, who, **params) -> str:
    client.force_login(who.user)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("portal:leaderboard"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_the_board_and_my_rank(client, people):
    html = page(client, people["me"])
    assert "Coming soon" not in html
    assert 'data-testid="leaderboard"' in html
    table = html[html.index('data-testid="leaderboard"'):]
    assert table.index("Rival") < table.index("Me Myself")
    assert 'data-testid="row-me"' in html
    assert 'data-testid="my-rank-number">#2<' in html
    assert "Updated every minute." in html


def test_filters_by_category_and_htmx_gets_the_fragment(client, people):
    client.force_login(people["me"].user)
    response = client.get(reverse("portal:leaderboard"), {"category": "learning"},
                          HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "Me Myself" in html and "Rival" not in html
    assert 'data-testid="my-rank-number">#1<' in html


def test_an_empty_period_says_so_and_bad_filters_fall_back(client, people):
    html = page(client, people["me"], period="2001-01")
    assert 'data-testid="leaderboard-empty"' in html
    assert 'data-testid="my-rank-none"' in html
    html = page(client, people["me"], period="nonsense", scope="team", category="zzz")
    assert 'data-testid="row-me"' in html


def test_hiding_my_name(client, people):
    client.force_login(people["rival"].user)
    response = client.post(reverse("portal:leaderboard_privacy"), {"hidden": "1"})
    assert response.status_code == 302
    assert is_hidden(people["rival"])
    assert "Rival" not in page(client, people["me"])
    assert "Anonymous colleague" in page(client, people["me"])
    assert "Rival" in page(client, people["rival"])
    client.force_login(people["rival"].user)
    client.post(reverse("portal:leaderboard_privacy"), {"hidden": "0"})
    assert not is_hidden(people["rival"])
