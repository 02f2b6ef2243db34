"""Mall pages: ``portal_urlpatterns`` (mounted in the ``portal`` namespace) and
``console_urlpatterns`` (in the ``console`` namespace), both by ``jifen.web_urls``."""

from django.urls import include, path

from jifen.mall import views
from jifen.mall.import_views import code_pages, tracking_pages

portal_urlpatterns = [
    path("mall/", views.mall_home, name="mall"),
    path("mall/items/", views.item_list, name="mall_list"),
    path("mall/items/<int:pk>/", views.item_detail, name="mall_item"),
    path("mall/items/<int:pk>/redeem/", views.redeem, name="mall_redeem"),
    path("mall/items/<int:pk>/favourite/", views.favourite, name="mall_favourite"),
    path("mall/favourites/", views.favourite_list, name="mall_favourites"),
    path("mall/addresses/", views.addresses, name="mall_addresses"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", views.order_action, name="order_action"),
]

console_urlpatterns = [
    path("mall/", views.order_desk, name="mall"),
    path("mall/orders/bulk/", views.order_bulk, name="mall_order_bulk"),
    path("mall/orders/export.<str:fmt>", views.order_export, name="mall_order_export"),
    path("mall/orders/<int:pk>/", views.desk_order, name="mall_order"),
    path("mall/items/", views.desk_items, name="mall_items"),
    path("mall/items/new/", views.desk_item_edit, name="mall_item_new"),
    path("mall/items/<int:pk>/", views.desk_item_edit, name="mall_item_edit"),
    path("mall/items/<int:pk>/images/", views.desk_item_images, name="mall_item_images"),
    path("mall/categories/", views.desk_categories, name="mall_categories"),
    path("mall/categories/<int:pk>/", views.desk_categories, name="mall_category_edit"),
    path("mall/categories/<int:pk>/delete/", views.desk_category_delete,
         name="mall_category_delete"),
    path("mall/windows/", views.desk_windows, name="mall_windows"),
    path("mall/campaigns/", views.desk_campaigns, name="mall_campaigns"),
    path("mall/codes/", views.desk_codes, name="mall_codes"),
    path("mall/import/tracking/", include((tracking_pages.urlpatterns(), "mall_tracking"))),
    path("mall/import/codes/", include((code_pages.urlpatterns(), "mall_code_import"))),
]
