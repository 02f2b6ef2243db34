"""Activity pages: the auction part (portal and console). Placeholders naming the pages the
centre links to, until the auction pages are built."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def _placeholder(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return HttpResponse(status=404)


portal_urlpatterns: list = [
    path("activities/auctions/<int:pk>/", _placeholder, name="auction"),
]
console_urlpatterns: list = [
    path("activities/auctions/new/", _placeholder, name="activities_auction_new"),
    path("activities/auctions/<int:pk>/", _placeholder, name="activities_auction"),
]
