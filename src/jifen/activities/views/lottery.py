"""Activity pages: the lottery part (portal and console). Placeholders naming the pages the
centre links to, until the lottery pages are built."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def _placeholder(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    return HttpResponse(status=404)


portal_urlpatterns: list = [
    path("activities/lotteries/<int:pk>/", _placeholder, name="lottery"),
    path("activities/lotteries/<int:pk>/verify/", _placeholder, name="lottery_verify"),
]
console_urlpatterns: list = [
    path("activities/lotteries/new/", _placeholder, name="activities_lottery_new"),
    path("activities/lotteries/<int:pk>/", _placeholder, name="activities_lottery"),
]
