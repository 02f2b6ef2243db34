"""Web page URLs. Each app owns its urls module and its lists of portal and console pages;
this file only composes them: the employee portal (namespace ``portal``, at the root) and
the admin console (namespace ``console``, under /console/), so that one namespace names
every console page whichever app serves it."""

from django.urls import include, path

from jifen.activities.urls import console_urlpatterns as activities_console_urls
from jifen.activities.urls import portal_urlpatterns as activities_portal_urls
from jifen.core.urls import console_urlpatterns as core_console_urls
from jifen.earning.urls import console_urlpatterns as earning_console_urls
from jifen.earning.urls import portal_urlpatterns as earning_portal_urls
from jifen.insights.urls_payroll import console_urlpatterns as payroll_console_urls
from jifen.insights.views.dashboards import console_urlpatterns as insights_console_urls
from jifen.insights.views.leaderboard import portal_urlpatterns as leaderboard_portal_urls
from jifen.insights.views.recommend import portal_urlpatterns as recommend_portal_urls
from jifen.integrations.urls import console_urlpatterns as integrations_console_urls
from jifen.ledger.urls import console_urlpatterns as ledger_console_urls
from jifen.ledger.urls import portal_urlpatterns as ledger_portal_urls
from jifen.library.urls import console_urlpatterns as library_console_urls
from jifen.library.urls import portal_urlpatterns as library_portal_urls
from jifen.mall.urls import console_urlpatterns as mall_console_urls
from jifen.mall.urls import portal_urlpatterns as mall_portal_urls
from jifen.notifications.urls import console_urlpatterns as notifications_console_urls
from jifen.notifications.urls import portal_urlpatterns as notifications_portal_urls
from jifen.people.urls import console_urlpatterns as people_console_urls
from jifen.web import views

portal_patterns = [
    path("", views.home, name="home"),
    *mall_portal_urls,
    *ledger_portal_urls,
    *earning_portal_urls,
    *notifications_portal_urls,
    *activities_portal_urls,
    *library_portal_urls,
    *leaderboard_portal_urls,
    *recommend_portal_urls,
]

console_patterns = [
    path("", views.dashboard, name="dashboard"),
    *people_console_urls,
    *earning_console_urls,
    *mall_console_urls,
    *ledger_console_urls,
    *activities_console_urls,
    *library_console_urls,
    *insights_console_urls,
    *payroll_console_urls,
    *core_console_urls,
    *notifications_console_urls,
    *integrations_console_urls,
]

urlpatterns = [
    path("console/people/import/", include("jifen.people.import_urls")),
    # Sign-in pages (login, logout, password), outside both namespaces.
    path("", include("jifen.people.urls")),
    path("console/", include((console_patterns, "console"))),
    path("", include((portal_patterns, "portal"))),
]
