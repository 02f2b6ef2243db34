"""Mounted at /console/people/import/ by ``jifen.web_urls``."""

from jifen.people.import_views import pages

app_name = "people_import"

urlpatterns = pages.urlpatterns()
