"""Web page URLs. Each app owns its urls module; this file only mounts them."""

from django.urls import include, path

urlpatterns = [
    path("console/people/import/", include("jifen.people.import_urls")),
    path("console/api-keys/", include("jifen.integrations.urls")),
    path("", include("jifen.people.urls")),
    path("", include("jifen.core.urls")),
]
