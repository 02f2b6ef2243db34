"""Library pages: ``portal_urlpatterns`` (``portal`` namespace) and ``console_urlpatterns``
(``console`` namespace), both mounted by ``jifen.web_urls``. Each part of the app keeps its
own list next to its views."""

from jifen.library.views import engagement, resources

portal_urlpatterns = [*resources.portal_urlpatterns, *engagement.portal_urlpatterns]
console_urlpatterns = [*resources.console_urlpatterns, *engagement.console_urlpatterns]
