"""Mall pages (being built)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def _todo(request, *args, **kwargs):
    return HttpResponse("…")


mall_home = item_list = item_detail = redeem = favourite = favourite_list = addresses = _todo
my_orders = order_detail = order_action = order_desk = order_bulk = order_export = _todo
desk_order = desk_items = desk_item_edit = desk_item_images = desk_categories = _todo
desk_windows = desk_campaigns = desk_codes = _todo
