from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image

from jifen.mall import services
from jifen.mall.models import Fulfilment, Item, Order
from tests.conftest import login_client
from tests.mall.conftest import order, spendable

pytestmark = pytest.mark.django_db


def png_upload(name: str = "cup.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class TestShopPages:
    def test_home_shows_rows_and_the_balance(self, buyer, make_item, django_assert_max_num_queries):
        for n in range(6):
            make_item(name=f"礼品{n}", points=100 * (n + 1))
        client = login_client(buyer.user)
        with django_assert_max_num_queries(40):
            response = client.get(reverse("portal:mall"))
        assert response.status_code == 200
        text = response.content.decode()
        assert "礼品0" in text and 'data-testid="row-affordable"' in text

    def test_search_page_finds_by_part_of_the_name(self, buyer, make_item):
        make_item(name="无线蓝牙耳机")
        make_item(name="保温杯")
        response = login_client(buyer.user).get(reverse("portal:mall_list"), {"q": "耳机"})
        text = response.content.decode()
        assert "无线蓝牙耳机" in text and "保温杯" not in text

    def test_redeem_from_the_item_page_then_cancel(self, buyer, make_item):
        item = make_item(points=120, stock=3)
        client = login_client(buyer.user)
        page = client.get(reverse("portal:mall_item", args=[item.pk]))
        assert page.status_code == 200 and 'data-testid="redeem"' in page.content.decode()
        response = client.post(reverse("portal:mall_redeem", args=[item.pk]),
                               {"quantity": 1, "token": "t1"})
        placed = Order.objects.get(employee=buyer)
        assert response.url == reverse("portal:order_detail", args=[placed.pk])
        client.post(reverse("portal:mall_redeem", args=[item.pk]), {"quantity": 1,
                                                                    "token": "t1"})
        assert Order.objects.filter(employee=buyer).count() == 1  # a double tap is one order
        detail = client.get(response.url).content.decode()
        assert placed.number in detail and 'data-testid="timeline"' in detail
        client.post(reverse("portal:order_action", args=[placed.pk, "cancel"]))
        assert Order.objects.get(pk=placed.pk).status == "cancelled"
        assert spendable(buyer) == 1000

    def test_typing_in_the_search_box_swaps_only_the_results(self, buyer, make_item):
        make_item(name="无线蓝牙耳机")
        response = login_client(buyer.user).get(reverse("portal:mall_list"), {"q": "耳机"},
                                                HTTP_HX_REQUEST="true")
        text = response.content.decode()
        assert "无线蓝牙耳机" in text and "<html" not in text

    def test_a_refusal_is_shown_on_the_item_page(self, employee, make_item):
        item = make_item(points=100)
        response = login_client(employee.user).post(
            reverse("portal:mall_redeem", args=[item.pk]), {"quantity": 1}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("portal:mall_item", args=[item.pk])
        shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
        assert [tag for tag, _text in shown] == ["error"]
        assert shown[0][1] in response.content.decode()
        assert not Order.objects.exists()

    @pytest.mark.parametrize("quantity", ["-3", "0", "100", "abc", "1.5"])
    def test_a_quantity_out_of_range_is_refused_not_changed(self, buyer, make_item,
                                                             quantity):
        item = make_item(points=100, stock=10)
        response = login_client(buyer.user).post(
            reverse("portal:mall_redeem", args=[item.pk]),
            {"quantity": quantity, "token": "t"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("portal:mall_item", args=[item.pk])
        shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
        assert shown == [("error", "每次可兑换 1 到 99 件。")]  # −3 used to become 1
        assert not Order.objects.exists() and spendable(buyer) == 1000

    def test_ordering_more_than_is_left_says_how_many_are_left(self, buyer, make_item):
        item = make_item(name="保温杯", points=10, stock=8)
        response = login_client(buyer.user).post(
            reverse("portal:mall_redeem", args=[item.pk]), {"quantity": 9, "token": "t"},
            follow=True)
        [shown] = [str(m) for m in response.context["messages"]]
        assert "8" in shown and "售罄" not in shown
        assert not Order.objects.exists()

    def test_the_fulfilment_reads_as_a_way_of_delivery_not_a_status(self, buyer, make_item,
                                                                   mall_admin):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        placed = order(buyer, make_item(fulfilment=Fulfilment.SHIPPED))
        for action in ("approve", "ship", "deliver", "complete"):
            services.perform(order=placed, action=action, actor=mall_admin.user,
                             carrier="顺丰速运", tracking_no="SF1")
        client = login_client(buyer.user)
        client.cookies["django_language"] = "en"
        page = client.get(reverse("portal:order_detail", args=[placed.pk])).content.decode()
        # Under the item's name, where "Shipped" read like the (completed) order's status.
        assert '<div class="text-secondary small">Delivery by courier</div>' in page

    def test_another_employees_order_page_is_404(self, buyer, other_buyer, make_item):
        theirs = order(other_buyer, make_item())
        client = login_client(buyer.user)
        assert client.get(reverse("portal:order_detail", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("portal:order_action",
                                   args=[theirs.pk, "cancel"])).status_code == 404

    def test_favourites(self, buyer, make_item):
        item = make_item(name="保温杯")
        client = login_client(buyer.user)
        client.post(reverse("portal:mall_favourite", args=[item.pk]))
        assert "保温杯" in client.get(reverse("portal:mall_favourites")).content.decode()


    def test_an_order_of_a_delisted_item_can_be_switched_from_its_page(self, buyer, make_item,
                                                                        mall_admin):
        old = make_item(name="旧款耳机", points=300)
        new = make_item(name="新款耳机", points=200)
        placed = order(buyer, old)
        services.set_item_status(item=old, status="delisted", actor=mall_admin.user)
        client = login_client(buyer.user)
        page = client.get(reverse("portal:order_detail", args=[placed.pk])).content.decode()
        assert 'data-testid="delisted-notice"' in page and "新款耳机" in page
        response = client.post(reverse("portal:order_action", args=[placed.pk, "switch"]),
                               {"item": new.pk})
        switched = Order.objects.get(employee=buyer, item=new)
        assert response.url == reverse("portal:order_detail", args=[switched.pk])
        assert Order.objects.get(pk=placed.pk).status == "cancelled"
        assert spendable(buyer) == 800

    def test_addresses_can_be_added_made_default_and_removed(self, buyer, other_buyer):
        client = login_client(buyer.user)
        url = reverse("portal:mall_addresses")
        for street in ("张江路 88 号", "世纪大道 100 号"):
            client.post(url, {"recipient": "张伟", "phone": "138", "address": street})
        first, second = buyer.shipping_addresses.order_by("pk")
        assert first.is_default and not second.is_default
        client.post(url, {"action": "default", "address": second.pk})
        second.refresh_from_db()
        assert second.is_default
        client.post(url, {"action": "remove", "address": second.pk})
        assert list(buyer.shipping_addresses.values_list("address", "is_default")) == [
            ("张江路 88 号", True)]
        others = login_client(other_buyer.user).post(url, {"action": "remove",
                                                           "address": first.pk})
        assert others.status_code == 404 and buyer.shipping_addresses.count() == 1


class TestConsole:
    def test_employees_cannot_open_the_order_desk(self, buyer):
        assert login_client(buyer.user).get(reverse("console:mall")).status_code == 403

    def test_desk_queue_bulk_approve_and_export(self, mall_admin, buyer, make_item):
        orders = [order(buyer, make_item(name=f"礼品{n}", points=10)) for n in range(3)]
        client = login_client(mall_admin.user)
        desk = client.get(reverse("console:mall"))
        assert desk.status_code == 200 and orders[0].number in desk.content.decode()
        client.post(reverse("console:mall_order_bulk"),
                    {"orders": [o.pk for o in orders[:2]]})
        statuses = sorted(Order.objects.values_list("status", flat=True))
        assert statuses == ["approved", "approved", "submitted"]
        export = client.get(reverse("console:mall_order_export", args=["csv"]), {"status": ""})
        assert orders[2].number in export.content.decode("utf-8-sig")

    def test_desk_reject_and_cancel_boxes_are_labelled_and_cancel_keeps_its_reason(
            self, mall_admin, buyer, make_item):
        placed = order(buyer, make_item())
        client = login_client(mall_admin.user)
        url = reverse("console:mall_order", args=[placed.pk])
        page = client.get(url).content.decode()
        labels = {box: re.search(rf'<label class="form-label[^"]*" for="id_{box}_reason">'
                                 r"([^<]+)</label>", page) for box in ("reject", "cancel")}
        assert all(labels.values()) and 'id="id_cancel_reason"' in page
        assert labels["reject"][1] != labels["cancel"][1]  # two boxes, told apart
        client.post(url, {"action": "cancel", "reason": "供应商缺货"})
        placed.refresh_from_db()
        assert (placed.status, placed.reason) == ("cancelled", "供应商缺货")
        assert spendable(buyer) == 1000

    def test_desk_ships_an_order(self, mall_admin, buyer, make_item):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        placed = order(buyer, make_item(fulfilment=Fulfilment.SHIPPED))
        client = login_client(mall_admin.user)
        url = reverse("console:mall_order", args=[placed.pk])
        client.post(url, {"action": "approve"})
        client.post(url, {"action": "ship", "carrier": "顺丰速运", "tracking_no": "SF9"})
        placed.refresh_from_db()
        assert (placed.status, placed.tracking_no) == ("shipped", "SF9")

    def test_item_editor_refuses_a_negative_price_and_stock_on_the_fields(self, mall_admin,
                                                                          category):
        response = login_client(mall_admin.user).post(reverse("console:mall_item_new"), {
            "action": "save", "name": "保温杯", "category": category.pk, "points": -5,
            "market_value": "-1", "stock": -2, "low_stock_threshold": -1,
            "per_employee_limit": 0, "limit_period": "month", "min_tenure_years": 0,
            "fulfilment": "shipped", "status": "listed",
        })
        assert response.status_code == 200 and not Item.objects.exists()
        form = response.context["form"]
        # Each field says what is wrong with it; nothing names a database constraint.
        assert form.non_field_errors() == []
        with translation.override("zh-hans"):
            assert form.errors["points"] == [
                _("The points price must be at least %(limit_value)s.") % {"limit_value": 1}]
        assert set(form.errors) == {"points", "stock", "market_value", "low_stock_threshold",
                                    "per_employee_limit"}
        assert all(len(messages) == 1 for messages in form.errors.values())
        page = response.content.decode()
        assert "mall_item_" not in page
        assert 'class="form-control is-invalid"' in page
        assert page.count("is-invalid") >= 5 and 'min="1"' in page

    def test_item_editor_creates_an_item_with_a_thumbnail(self, mall_admin, category):
        client = login_client(mall_admin.user)
        response = client.post(reverse("console:mall_item_new"), {
            "action": "save", "name": "保温杯", "category": category.pk, "points": 100,
            "market_value": "20", "stock": 50, "low_stock_threshold": 5,
            "limit_period": "month", "min_tenure_years": 0, "fulfilment": "shipped",
            "status": "listed",
        })
        item = Item.objects.get(name="保温杯")
        assert response.status_code == 302 and item.stock == 50
        client.post(reverse("console:mall_item_images", args=[item.pk]),
                    {"image": png_upload()})
        image = item.images.get()
        assert image.thumbnail.name.endswith(".jpg")
        with Image.open(image.thumbnail.path) as thumb:
            assert max(thumb.size) <= 480

    def test_delisting_from_the_editor_tells_open_orders(self, mall_admin, buyer, make_item):
        from jifen.notifications.models import Notification

        item = make_item(name="保温杯")
        order(buyer, item)
        client = login_client(mall_admin.user)
        page = client.get(reverse("console:mall_item_edit", args=[item.pk])).content.decode()
        assert "data-confirm=" in page  # the delist button warns about the open order
        client.post(reverse("console:mall_item_edit", args=[item.pk]), {"action": "delisted"})
        assert Item.objects.get(pk=item.pk).status == "delisted"
        assert Notification.objects.filter(recipient=buyer.user,
                                           kind="mall.item_delisted").exists()

    def test_an_empty_category_is_deleted_and_one_holding_items_stays(self, mall_admin,
                                                                       category, make_item):
        from jifen.core.models import AuditEntry
        from jifen.mall.models import Category

        client = login_client(mall_admin.user)
        empty = services.save_category(actor=mall_admin.user, name="季节限定")
        make_item()  # in ``category``
        page = client.get(reverse("console:mall_category_edit", args=[empty.pk]))
        assert b'data-testid="delete-category"' in page.content
        done = client.post(reverse("console:mall_category_delete", args=[empty.pk]),
                           follow=True)
        assert "已删除分类 季节限定。" in done.content.decode()  # the admin's language
        kept = client.post(reverse("console:mall_category_delete", args=[category.pk]),
                           follow=True)
        assert kept.redirect_chain[-1][0] == reverse("console:mall_category_edit",
                                                     args=[category.pk])
        assert "数码电子 下还有商品或子分类，请先移走。" in kept.content.decode()
        assert not Category.objects.filter(pk=empty.pk).exists()
        assert Category.objects.filter(pk=category.pk).exists()
        assert AuditEntry.objects.filter(action="mall.category.delete").count() == 1

    @pytest.mark.parametrize("name", ["mall_items", "mall_categories", "mall_windows",
                                      "mall_campaigns", "mall_codes", "mall_item_new",
                                      "mall_tracking:start", "mall_code_import:start"])
    def test_console_pages_open(self, mall_admin, name):
        assert login_client(mall_admin.user).get(reverse(f"console:{name}")).status_code == 200

    def test_tracking_sheet_ships_approved_orders(self, mall_admin, buyer, make_item):
        from jifen.core.imports import (
            create_import_job,
            get_importer,
            run_import_check,
            run_import_commit,
            start_import_commit,
        )

        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        placed = order(buyer, make_item(fulfilment=Fulfilment.SHIPPED))
        services.approve_order(order=placed, actor=mall_admin.user)
        sheet = f"订单号,快递公司,快递单号\n{placed.number},顺丰速运,SF777\nM999999,顺丰,1\n"
        upload = SimpleUploadedFile("ship.csv", sheet.encode(), content_type="text/csv")
        job = create_import_job(importer=get_importer("mall.tracking"), upload=upload,
                                actor=mall_admin.user)
        job = run_import_check(job_id=job.pk, actor_id=mall_admin.user.pk)  # the worker's part
        assert (job.valid_rows, job.error_count) == (1, 1)
        job = start_import_commit(job=job, mode="valid_only", actor=mall_admin.user)
        if job.status != "done":
            job = run_import_commit(job_id=job.pk)
        placed.refresh_from_db()
        assert (placed.status, placed.tracking_no) == ("shipped", "SF777")

    def test_code_sheet_fills_a_pool(self, mall_admin, make_item):
        from jifen.core.imports import (
            create_import_job,
            get_importer,
            run_import_check,
            run_import_commit,
            start_import_commit,
        )

        item = make_item(fulfilment=Fulfilment.CODE)
        sheet = f"商品,兑换码\n{item.pk},C-1\n{item.pk},C-2\n"
        upload = SimpleUploadedFile("codes.csv", sheet.encode(), content_type="text/csv")
        job = create_import_job(importer=get_importer("mall.codes"), upload=upload,
                                actor=mall_admin.user)
        job = run_import_check(job_id=job.pk, actor_id=mall_admin.user.pk)  # the worker's part
        start_import_commit(job=job, mode="all", actor=mall_admin.user)
        run_import_commit(job_id=job.pk)
        assert Item.objects.get(pk=item.pk).stock == 2
        page = login_client(mall_admin.user).get(reverse("console:mall_codes"))
        assert item.name in page.content.decode()
