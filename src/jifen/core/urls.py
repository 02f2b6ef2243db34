from django.urls import path

from jifen.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
