"""Ledger pages: ``portal_urlpatterns`` (mounted in the ``portal`` namespace) and
``console_urlpatterns`` (in the ``console`` namespace), both by ``jifen.web_urls``."""

from django.urls import path

from jifen.ledger import views

portal_urlpatterns = [
    path("points/", views.my_points, name="points"),
    path("points/export.<str:fmt>", views.my_points_export, name="points_export"),
]

console_urlpatterns = [
    path("ledger/", views.transactions, name="ledger"),
    path("ledger/transactions/<int:pk>/", views.transaction_detail,
         name="ledger_transaction"),
    path("ledger/accounts/", views.accounts, name="ledger_accounts"),
    path("ledger/adjust/", views.adjust, name="adjust"),
    path("ledger/outstanding/", views.outstanding, name="outstanding"),
    path("ledger/employees/<int:pk>/", views.employee_points, name="employee_points"),
]
