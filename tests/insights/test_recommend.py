"""Recommendations on small worlds placed through the real services: what is never
offered, that the reason matches the signal that lifted the thing, the off switch, the
nightly build (support, pruning, replacing yesterday's) and the API."""

from __future__ import annotations

import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from jifen.core import suggestions
from jifen.core.roles import Role
from jifen.insights.models import Catalogue, GroupTaste, Neighbour, RecommendationBuild
from jifen.insights.selectors import recommend as selectors
from jifen.insights.services import recommend as services
from jifen.insights.services import rollups
from jifen.library.models import ResourceKind, ResourceStatus, ResourceView
from jifen.library.services import resources as library
from jifen.mall import services as mall
from jifen.mall.models import Fulfilment, ItemStatus, ItemView, LimitPeriod
from jifen.people.services import issue_access_token
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.ledger.helpers import earn, fund

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


@pytest.fixture
def world(db):
    """A company of two divisions under one top department, a mall admin and a shop."""
    top = DepartmentFactory(name="总部")
    rd = DepartmentFactory(name="研发中心", parent=top)
    sales = DepartmentFactory(name="销售部", parent=top)
    admin = EmployeeFactory(roles=[Role.MALL_ADMIN, Role.HR_ADMIN], department=top)
    category = mall.save_category(actor=admin.user, name="生活")

    def item(name: str, points: int = 100, **fields):
        fields.setdefault("status", ItemStatus.LISTED)
        return mall.create_item(actor=admin.user, name=name, points=points,
                                fulfilment=Fulfilment.SERVICE, category=category, **fields)

    def person(department=rd, points: int = 5000, **fields):
        employee = EmployeeFactory(department=department, **fields)
        if points:
            fund(employee, points)
        return employee

    return {"top": top, "rd": rd, "sales": sales, "admin": admin, "item": item,
            "person": person}


@pytest.fixture
def api_client():
    def signed_in(employee) -> Client:
        token = issue_access_token(user=employee.user)[1]
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    return signed_in


def redeem(employee, item):
    return mall.create_order(employee=employee, item=item,
                             idempotency_key=f"recommend-{next(_keys)}")


def ids(found) -> list[int]:
    return [s.target_id for s in found]


def test_never_offers_delisted_sold_out_ineligible_owned_or_limited_things(world):
    item, person = world["item"], world["person"]
    viewer = person(department=world["sales"], hire_date=timezone.localdate(), grade="P3")
    fine = item("保温杯")
    delisted = item("吉祥物")
    sold_out = item("限量耳机", stock=1)
    rd_only = item("研发周边", eligible_departments=[world["rd"]])
    veterans = item("平板", min_tenure_years=5)
    seniors = item("高管体检", eligible_grades="P7,P8")
    owned = item("午睡毯")
    limited = item("京东卡", per_employee_limit=1, limit_period=LimitPeriod.EVER)
    redeem(viewer, owned)
    redeem(viewer, limited)
    veteran = timezone.localdate() - timedelta(days=365 * 8)
    for other in [person(hire_date=veteran, grade="P8") for _ in range(4)]:  # all popular
        for thing in (fine, delisted, rd_only, veterans, seniors, owned, limited):
            redeem(other, thing)
    redeem(person(), sold_out)  # the last one
    mall.set_item_status(item=delisted, status=ItemStatus.DELISTED, actor=world["admin"].user)
    services.build()

    offered = ids(selectors.for_employee(viewer, limit=50))
    assert offered == [fine.pk]
    assert ids(selectors.popular_for(viewer, limit=50)) == [fine.pk]
    assert ids(selectors.also_redeemed(owned, employee=viewer, limit=50)) == [fine.pk]


def test_the_library_offers_neither_withdrawn_nor_ineligible_nor_owned_resources(world):
    admin, person = world["admin"], world["person"]
    viewer = person(department=world["sales"])

    def course(title: str, price: int = 10, **fields):
        return library.create_resource(actor=admin.user, title=title, kind=ResourceKind.LINK,
                                       external_url="https://learn.example.com/c",
                                       price=price, status=ResourceStatus.PUBLISHED,
                                       **fields)

    open_course = course("Python 入门")
    withdrawn = course("旧课程")
    rd_only = course("架构设计", departments=[world["rd"]])
    bought = course("沟通技巧")
    free_taken = course("时间管理", price=0)
    library.buy(resource=bought, employee=viewer, idempotency_key="lib-1")
    library.record_download(resource=free_taken, employee=viewer)
    library.withdraw_resource(resource=withdrawn, actor=admin.user)

    found = selectors.for_employee(viewer, catalogue=Catalogue.LIBRARY, limit=50)
    assert ids(found) == [open_course.pk]
    assert rd_only.pk not in ids(selectors.popular_for(viewer, catalogue=Catalogue.LIBRARY))


def test_something_done_lifts_its_neighbours_and_says_so(world):
    item, person = world["item"], world["person"]
    cup, blanket, headset, card = item("保温杯"), item("午睡毯"), item("耳机"), item("购物卡")
    for _ in range(3):  # three colleagues took both the cup and the blanket
        colleague = person(department=world["sales"])
        redeem(colleague, cup)
        redeem(colleague, blanket)
    for _ in range(6):  # the card is more popular, with no link to the cup
        redeem(person(department=world["sales"]), card)
    redeemer, saver, looker = (person(department=world["sales"]) for _ in range(3))
    redeem(redeemer, cup)
    mall.toggle_favourite(employee=saver, item=cup)
    mall.record_item_view(employee=looker, item=cup)
    services.build()

    with translation.override("zh-hans"):
        first = selectors.for_employee(redeemer)[0]
        assert (first.target_id, first.why.code) == (blanket.pk, "redeemed")
        assert first.why.text == "因为你兑换过「保温杯」"
        saved = selectors.for_employee(saver)[0]
        assert (saved.target_id, saved.why.text) == (blanket.pk, "因为你收藏了「保温杯」")
    with translation.override("en"):
        looked = selectors.for_employee(looker)[0]
        assert (looked.target_id, looked.why.text) == (blanket.pk,
                                                        "Because you looked at “保温杯”")
    stranger = person(department=world["sales"])
    top = selectors.for_employee(stranger)
    assert (top[0].target_id, top[0].why.code) == (card.pk, "popular")
    assert headset.pk in ids(top)  # never redeemed, still offered, last
    assert ids(top)[-1] == headset.pk


def test_what_a_department_goes_for_is_offered_to_its_newcomer(world):
    item, person = world["item"], world["person"]
    keyboard, card = item("机械键盘"), item("购物卡")
    for _ in range(6):
        redeem(person(department=world["rd"]), keyboard)
    for _ in range(8):
        redeem(person(department=world["sales"]), card)
    newcomer = person(department=world["rd"])
    services.build()

    first = selectors.for_employee(newcomer)[0]
    assert first.target_id == keyboard.pk
    with translation.override("zh-hans"):
        assert first.why.text == "研发中心的同事常兑换"
    assert selectors.for_employee(person(department=world["sales"]))[0].target_id == card.pk


def test_points_leaning_to_learning_bring_what_learners_redeem(world):
    item, person = world["item"], world["person"]
    course, blanket = item("在线课程"), item("午睡毯")
    learners = [person(department=world["sales"]) for _ in range(4)]
    for learner in learners:
        earn(learner, 400, category="learning")
        redeem(learner, course)
    for _ in range(6):
        worker = person(department=world["sales"])
        earn(worker, 400, category="performance")
        redeem(worker, blanket)
    newcomer = person(department=world["sales"], points=0)
    earn(newcomer, 300, category="learning")
    rollups.fold_pending()
    services.build()

    assert selectors.leaning_of(newcomer) == "learning"
    first = selectors.for_employee(newcomer)[0]
    assert (first.target_id, first.why.code) == (course.pk, "leaning")
    with translation.override("zh-hans"):
        assert first.why.text == "你最近在学习"


def test_what_is_nearly_affordable_rises_and_what_is_far_sinks(world):
    item, person = world["item"], world["person"]
    near, cheap, far = item("蓝牙音箱", points=1150), item("保温杯", points=500), item(
        "平板电脑", points=3000)
    for thing in (far, cheap, near):  # all three equally popular
        for _ in range(2):
            redeem(person(), thing)
    viewer = person(points=1000)
    services.build()

    found = selectors.for_employee(viewer, spendable=1000)
    assert ids(found) == [near.pk, cheap.pk, far.pk]
    assert [s.short_by for s in found] == [150, 0, 0]


def test_turning_it_off_hides_every_row_and_on_brings_them_back(world):
    item, person = world["item"], world["person"]
    cup, blanket = item("保温杯"), item("午睡毯")
    for _ in range(3):
        colleague = person()
        redeem(colleague, cup)
        redeem(colleague, blanket)
    viewer = person()
    services.build()
    assert suggestions.suggestions(suggestions.MALL_HOME, employee=viewer, spendable=5000)

    services.set_recommendations(employee=viewer, enabled=False)
    services.set_recommendations(employee=viewer, enabled=False)  # twice is the same
    assert not selectors.enabled_for(viewer)
    assert suggestions.suggestions(suggestions.MALL_HOME, employee=viewer, spendable=5000) == []
    assert suggestions.suggestions(suggestions.MALL_ITEM, employee=viewer, item=cup) == []
    assert suggestions.suggestions(suggestions.LIBRARY_HOME, employee=viewer) == []
    assert suggestions.suggestions(suggestions.DIGEST, user=viewer.user) == []

    services.set_recommendations(employee=viewer, enabled=True)
    assert ids(suggestions.suggestions(suggestions.MALL_ITEM, employee=viewer, item=cup)) == [
        blanket.pk]


def test_the_build_counts_pairs_enough_people_share_and_forgets_old_looks(world):
    item, person = world["item"], world["person"]
    cup, blanket, pen = item("保温杯"), item("午睡毯"), item("签字笔")
    for _ in range(services.MIN_SUPPORT):
        colleague = person()
        redeem(colleague, cup)
        redeem(colleague, blanket)
    pair_of_two = [person() for _ in range(services.MIN_SUPPORT - 1)]
    for colleague in pair_of_two:
        mall.record_item_view(employee=colleague, item=cup)
        mall.record_item_view(employee=colleague, item=pen)
    old = timezone.localdate() - timedelta(days=services.LOOKS_DAYS + 1)
    mall.record_item_view(employee=pair_of_two[0], item=pen, day=old)
    mall.record_item_view(employee=pair_of_two[0], item=pen)  # the same day twice: one row
    Neighbour.objects.create(catalogue=Catalogue.MALL, source_id=999, target_id=998,
                             score=1, support=9)  # yesterday's, gone after the build

    result = services.build()

    pairs = set(Neighbour.objects.values_list("source_id", "target_id"))
    assert pairs == {(cup.pk, blanket.pk), (blanket.pk, cup.pk)}
    assert Neighbour.objects.get(source_id=cup.pk).support == services.MIN_SUPPORT
    assert not ItemView.objects.filter(day=old).exists()
    assert ItemView.objects.filter(item=pen).count() == len(pair_of_two)
    everyone = dict(GroupTaste.objects.filter(group=GroupTaste.Group.EVERYONE)
                    .values_list("target_id", "support"))
    assert everyone == {cup.pk: 5, blanket.pk: 3, pen.pk: 2}
    assert RecommendationBuild.objects.get().neighbours == result.neighbours == 2


def test_library_views_older_than_ninety_days_are_pruned(world):
    admin, viewer = world["admin"], world["person"]()
    resource = library.create_resource(actor=admin.user, title="Python 入门",
                                       kind=ResourceKind.LINK,
                                       external_url="https://learn.example.com/c",
                                       status=ResourceStatus.PUBLISHED)
    library.record_view(resource=resource, employee=viewer)
    ResourceView.objects.create(resource=resource, employee=viewer,
                                at=timezone.now() - timedelta(days=91))
    services.build()
    assert ResourceView.objects.count() == 1


def test_an_empty_company_builds_and_offers_what_is_listed(world):
    cup = world["item"]("保温杯")
    viewer = world["person"]()
    out = StringIO()
    call_command("insights", "recommend", stdout=out)
    assert "0 neighbours" in out.getvalue()
    found = selectors.for_employee(viewer)
    assert [(s.target_id, s.why.code) for s in found] == [(cup.pk, "popular")]


# --- the API ------------------------------------------------------------------------------


def test_api_recommendations_with_reasons_in_the_callers_language(world, api_client):
    item, person = world["item"], world["person"]
    cup, blanket = item("保温杯"), item("午睡毯", points=200)
    for _ in range(3):
        colleague = person()
        redeem(colleague, cup)
        redeem(colleague, blanket)
    viewer = person()
    redeem(viewer, cup)
    services.build()
    client = api_client(viewer)

    answer = client.get("/api/v1/me/recommendations?limit=5", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["next_cursor"] is None
    assert body["items"][0] == {
        "catalogue": "mall", "id": blanket.pk, "name": "午睡毯", "points": 200,
        "short_by": 0, "url": f"/mall/items/{blanket.pk}/",
        "why": {"code": "redeemed", "params": {"name": "保温杯", "catalogue": "mall",
                                                "source_id": cup.pk},
                "text": body["items"][0]["why"]["text"]}}
    assert body["items"][0]["why"]["text"] in ("Because you redeemed “保温杯”",
                                                "因为你兑换过「保温杯」")

    related = client.get(f"/api/v1/items/{cup.pk}/related").json()["items"]
    assert [(r["id"], r["why"]["code"]) for r in related] == [(blanket.pk, "also")]


@pytest.mark.parametrize("query", ["catalogue=shop", "limit=0", "limit=51", "limit=x"])
def test_api_refuses_a_bad_question_with_a_422(world, api_client, query):
    answer = api_client(world["person"]()).get(f"/api/v1/me/recommendations?{query}")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"]


def test_api_related_items_of_a_delisted_item_is_a_404(world, api_client):
    cup = world["item"]("保温杯")
    mall.set_item_status(item=cup, status=ItemStatus.DELISTED, actor=world["admin"].user)
    answer = api_client(world["person"]()).get(f"/api/v1/items/{cup.pk}/related")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_api_switch_turns_recommendations_off_and_on(world, api_client):
    cup = world["item"]("保温杯")
    viewer = world["person"]()
    client = api_client(viewer)
    assert client.get("/api/v1/me/recommendation-settings").json() == {"enabled": True}
    answer = client.put("/api/v1/me/recommendation-settings", {"enabled": False},
                        content_type="application/json")
    assert answer.json() == {"enabled": False}
    assert client.get("/api/v1/me/recommendations").json()["items"] == []
    assert client.get(f"/api/v1/items/{cup.pk}/related").json()["items"] == []
    bad = client.put("/api/v1/me/recommendation-settings", {"enabled": "no"},
                     content_type="application/json")
    assert bad.status_code == 422
    client.put("/api/v1/me/recommendation-settings", {"enabled": True},
               content_type="application/json")
    assert [r["id"] for r in client.get("/api/v1/me/recommendations").json()["items"]] == [
        cup.pk]


def test_reading_a_row_costs_the_same_few_queries_however_much_was_done(
        world, django_assert_max_num_queries):
    item, person = world["item"], world["person"]
    things = [item(f"商品{n}") for n in range(12)]
    viewer = person()
    for n, thing in enumerate(things):
        for colleague in [person() for _ in range(3)]:
            redeem(colleague, thing)
            redeem(colleague, things[(n + 1) % len(things)])
        mall.record_item_view(employee=viewer, item=thing)
    redeem(viewer, things[0])
    mall.toggle_favourite(employee=viewer, item=things[1])
    services.build()
    with django_assert_max_num_queries(16):
        found = selectors.for_employee(viewer, spendable=5000)
        [s.why.text for s in found]
    assert len(found) == 10
