"""Mall pages given hostile or malformed input: a `next` that leaves the site, ids that are
not numbers, and a picture that would decompress to hundreds of megabytes. Each gets a 4xx
or a message on the page and changes nothing; none is a 500 or a redirect off the site."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageFile

from jifen.core import errors
from jifen.core.images import picture_too_large
from jifen.mall import services
from jifen.mall.models import Fulfilment, ItemImage, Order
from tests.conftest import login_client
from tests.images import bomb_png
from tests.mall.conftest import order

pytestmark = pytest.mark.django_db

EVIL = ["https://evil.example/phish", "//evil.example/", "http://evil.example",
        "javascript:alert(1)", "/\\evil.example"]
# Not paths: redirect() would take them for view names and fail.
NOT_URLS = ["mall_item", "portal:mall", "a:b:c"]


def small_png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile("cup.png", buffer.getvalue(), content_type="image/png")


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def _stays_on_site(response) -> None:
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "evil.example" not in location


class TestNextStaysOnTheSite:
    @pytest.mark.parametrize("target", EVIL)
    def test_saving_an_address_does_not_send_you_off_the_site(self, buyer, target):
        client = login_client(buyer.user)
        url = reverse("portal:mall_addresses")
        page = client.get(url, {"next": target})
        assert '<input type="hidden" name="next" value="">' in page.content.decode()
        response = client.post(f"{url}?next={target}", {
            "recipient": "张伟", "phone": "138", "address": "张江路 88 号", "next": target})
        _stays_on_site(response)
        assert response["Location"] == url
        assert buyer.shipping_addresses.count() == 1

    def test_saving_an_address_still_goes_back_to_the_item(self, buyer, make_item):
        item = make_item(fulfilment=Fulfilment.SHIPPED)
        back = reverse("portal:mall_item", args=[item.pk])
        client = login_client(buyer.user)
        url = reverse("portal:mall_addresses")
        assert f'value="{back}"' in client.get(url, {"next": back}).content.decode()
        response = client.post(f"{url}?next={back}", {
            "recipient": "张伟", "phone": "138", "address": "张江路 88 号", "next": back})
        assert response.status_code == 302 and response["Location"] == back

    @pytest.mark.parametrize("target", [*EVIL, *NOT_URLS])
    def test_favourite_falls_back_to_the_item(self, buyer, make_item, target):
        item = make_item()
        response = login_client(buyer.user).post(
            reverse("portal:mall_favourite", args=[item.pk]), {"next": target})
        _stays_on_site(response)
        assert response["Location"] == reverse("portal:mall_item", args=[item.pk])

    @pytest.mark.parametrize("target", [*EVIL, *NOT_URLS])
    def test_bulk_approve_falls_back_to_the_desk(self, mall_admin, buyer, make_item, target):
        placed = order(buyer, make_item(points=10))
        response = login_client(mall_admin.user).post(
            reverse("console:mall_order_bulk"), {"orders": [placed.pk], "next": target})
        _stays_on_site(response)
        assert response["Location"] == reverse("console:mall")
        assert Order.objects.get(pk=placed.pk).status == "approved"

    @pytest.mark.parametrize("target", EVIL)
    def test_desk_order_falls_back_to_the_order(self, mall_admin, buyer, make_item, target):
        placed = order(buyer, make_item(points=10))
        url = reverse("console:mall_order", args=[placed.pk])
        response = login_client(mall_admin.user).post(url, {"action": "approve",
                                                            "next": target})
        _stays_on_site(response)
        assert response["Location"] == url

    def test_a_next_on_the_site_is_kept(self, mall_admin, buyer, make_item):
        placed = order(buyer, make_item(points=10))
        back = reverse("console:mall") + "?status=approved&page=2"
        response = login_client(mall_admin.user).post(
            reverse("console:mall_order", args=[placed.pk]), {"action": "approve",
                                                              "next": back})
        assert response["Location"] == back


NOT_IDS = ["abc", "1.5", "-1", "0", "²", "١", "1e3", "99999999999999999999999",
           "9" * 5000]  # past 4,300 digits int() itself refuses


class TestIdsThatAreNotNumbers:
    @pytest.mark.parametrize("value", NOT_IDS)
    def test_redeem_with_a_bad_address_orders_nothing(self, buyer, make_item, value):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        item = make_item(fulfilment=Fulfilment.SHIPPED, stock=5)
        response = login_client(buyer.user).post(
            reverse("portal:mall_redeem", args=[item.pk]),
            {"quantity": 1, "address": value, "token": "t"}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse("portal:mall_item", args=[item.pk])
        assert [tag for tag, _text in _messages(response)] == ["error"]
        assert not Order.objects.exists()

    def test_redeem_with_someone_elses_address_orders_nothing(self, buyer, other_buyer,
                                                              make_item):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        theirs = services.add_address(employee=other_buyer, recipient="李娜", phone="139",
                                      address="别处 2 号")
        item = make_item(fulfilment=Fulfilment.SHIPPED, stock=5)
        response = login_client(buyer.user).post(
            reverse("portal:mall_redeem", args=[item.pk]),
            {"quantity": 1, "address": theirs.pk, "token": "t"})
        assert response.status_code == 302
        assert not Order.objects.exists()

    def test_redeem_with_my_address_ships_there(self, buyer, make_item):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        mine = services.add_address(employee=buyer, recipient="张伟", phone="138",
                                    address="另一路 9 号")
        item = make_item(fulfilment=Fulfilment.SHIPPED, stock=5)
        login_client(buyer.user).post(reverse("portal:mall_redeem", args=[item.pk]),
                                      {"quantity": 1, "address": mine.pk, "token": "t"})
        assert Order.objects.get().address["address"] == "另一路 9 号"

    @pytest.mark.parametrize("value", [*NOT_IDS, ""])
    def test_switching_to_a_bad_item_is_404(self, buyer, make_item, mall_admin, value):
        old = make_item(name="旧款耳机", points=300)
        placed = order(buyer, old)
        services.set_item_status(item=old, status="delisted", actor=mall_admin.user)
        response = login_client(buyer.user).post(
            reverse("portal:order_action", args=[placed.pk, "switch"]), {"item": value})
        assert response.status_code == 404
        assert Order.objects.get(pk=placed.pk).status == "submitted"

    @pytest.mark.parametrize("value", NOT_IDS)
    def test_removing_a_bad_address_is_404(self, buyer, value):
        services.add_address(employee=buyer, recipient="张伟", phone="138", address="某路 1 号")
        response = login_client(buyer.user).post(reverse("portal:mall_addresses"),
                                                 {"action": "remove", "address": value})
        assert response.status_code == 404 and buyer.shipping_addresses.count() == 1

    @pytest.mark.parametrize("name", ["console:mall_windows", "console:mall_campaigns"])
    @pytest.mark.parametrize("value", NOT_IDS)
    def test_editing_a_bad_window_or_campaign_is_404(self, mall_admin, name, value):
        response = login_client(mall_admin.user).get(reverse(name), {"edit": value})
        assert response.status_code == 404

    @pytest.mark.parametrize("value", NOT_IDS)
    def test_removing_a_bad_picture_is_404(self, mall_admin, make_item, value):
        item = make_item()
        services.add_item_image(item=item, upload=small_png(), actor=mall_admin.user)
        response = login_client(mall_admin.user).post(
            reverse("console:mall_item_images", args=[item.pk]), {"remove": value})
        assert response.status_code == 404 and item.images.count() == 1

    def test_bulk_approve_ignores_what_is_not_an_order_number(self, mall_admin, buyer,
                                                              make_item):
        placed = order(buyer, make_item(points=10))
        response = login_client(mall_admin.user).post(
            reverse("console:mall_order_bulk"), {"orders": NOT_IDS}, follow=True)
        assert response.status_code == 200
        assert [tag for tag, _text in _messages(response)] == ["warning"]
        assert Order.objects.get(pk=placed.pk).status == "submitted"


class TestPictureTooLarge:
    @pytest.fixture
    def decoded(self, monkeypatch):
        """The sizes of the pictures Pillow decoded in full."""
        sizes: list[tuple[int, int]] = []
        load = ImageFile.ImageFile.load

        def spy(image):
            sizes.append(image.size)
            return load(image)

        monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
        return sizes

    def test_the_editor_refuses_it_without_decoding_it(self, mall_admin, make_item, decoded):
        item = make_item()
        upload = bomb_png()
        assert len(upload) < 600_000
        response = login_client(mall_admin.user).post(
            reverse("console:mall_item_images", args=[item.pk]), {"image": upload},
            follow=True)
        assert response.status_code == 200
        shown = _messages(response)
        assert [tag for tag, _text in shown] == ["error"]
        with translation.override(response.wsgi_request.LANGUAGE_CODE):
            assert shown[0][1] == picture_too_large().message
        assert shown[0][1] in response.content.decode()
        assert not ItemImage.objects.exists()
        assert (13000, 13000) not in decoded

    def test_the_editor_names_the_limit_past_pillows_own_limit_too(self, mall_admin,
                                                                     make_item):
        item = make_item()
        response = login_client(mall_admin.user).post(
            reverse("console:mall_item_images", args=[item.pk]),
            {"image": bomb_png(20000, 20000)}, follow=True)
        shown = _messages(response)
        with translation.override(response.wsgi_request.LANGUAGE_CODE):
            assert shown == [("error", picture_too_large().message)]
        assert not ItemImage.objects.exists()

    def test_a_file_that_is_not_a_picture_is_refused_with_a_message(self, mall_admin,
                                                                     make_item):
        item = make_item()
        response = login_client(mall_admin.user).post(
            reverse("console:mall_item_images", args=[item.pk]),
            {"image": SimpleUploadedFile("a.png", b"not a picture")}, follow=True)
        assert response.status_code == 200
        assert [tag for tag, _text in _messages(response)] == ["error"]
        assert not ItemImage.objects.exists()

    def test_the_service_refuses_it_too(self, mall_admin, make_item, decoded):
        item = make_item()
        with pytest.raises(errors.ValidationError) as refused:
            services.add_item_image(item=item, upload=bomb_png(9000, 5000),
                                    actor=mall_admin.user)
        assert refused.value.code == "image_too_large"
        assert not ItemImage.objects.exists() and decoded == []

    def test_a_picture_beyond_pillows_own_limit_is_refused_not_a_500(self, mall_admin,
                                                                      make_item):
        item = make_item()
        with pytest.raises(errors.ValidationError) as refused:
            services.add_item_image(item=item, upload=bomb_png(20000, 20000),
                                    actor=mall_admin.user)
        assert refused.value.code == "image_too_large"

    def test_a_large_but_sane_picture_is_still_accepted(self, mall_admin, make_item):
        item = make_item()
        services.add_item_image(item=item, upload=bomb_png(6000, 4000),
                                actor=mall_admin.user)
        assert item.images.count() == 1
