from django.urls import include, path

urlpatterns = [
    path("", include("jifen.core.urls")),
]
