"""Activity pages: ``portal_urlpatterns`` (``portal`` namespace) and ``console_urlpatterns``
(``console`` namespace), both mounted by ``jifen.web_urls``. Each part of the app keeps its
own list next to its views."""

from jifen.activities.views import auction, centre, lottery

portal_urlpatterns = [
    *centre.portal_urlpatterns,
    *lottery.portal_urlpatterns,
    *auction.portal_urlpatterns,
]
console_urlpatterns = [
    *centre.console_urlpatterns,
    *lottery.console_urlpatterns,
    *auction.console_urlpatterns,
]
