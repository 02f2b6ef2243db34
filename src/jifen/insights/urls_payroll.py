"""Payroll console pages (``console`` namespace), mounted by ``jifen.web_urls``."""

from django.urls import path

from jifen.insights.views import payroll

console_urlpatterns = [
    path("insights/payroll/", payroll.periods, name="payroll"),
    path("insights/payroll/settings/", payroll.settings_page, name="payroll_settings"),
    path("insights/payroll/<str:month>/", payroll.period, name="payroll_period"),
    path("insights/payroll/<str:month>/export.xlsx", payroll.export, name="payroll_export"),
    path("insights/payroll/<str:month>/close/", payroll.close, name="payroll_close"),
    path("insights/payroll/<str:month>/reopen/", payroll.reopen, name="payroll_reopen"),
]
