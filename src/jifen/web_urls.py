"""Web page URLs. Each app owns its urls module; this file only mounts them."""

from django.urls import include, path

urlpatterns = [
    path("console/people/import/", include("jifen.people.import_urls")),
    path("", include("jifen.people.urls")),
    # The portal and the console; the console mounts the people and API key pages itself
    # so that one namespace ("console") names every console page.
    path("", include("jifen.core.urls")),
]
