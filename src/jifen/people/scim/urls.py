"""/scim/v2/ routes (included from jifen.urls)."""

from django.urls import path, re_path

from jifen.people.scim import views

app_name = "scim"

urlpatterns = [
    path("ServiceProviderConfig", views.service_provider_config_view,
         name="service_provider_config"),
    path("ResourceTypes", views.resource_types_view, name="resource_types"),
    path("ResourceTypes/<str:name>", views.resource_types_view, name="resource_type"),
    path("Schemas", views.schemas_view, name="schemas"),
    path("Schemas/<str:schema_id>", views.schemas_view, name="schema"),
    path(".search", views.root_search, name="search"),
    path("Users", views.users, name="users"),
    path("Users/.search", views.users_search, name="users_search"),
    path("Users/<str:pk>", views.user, name="user"),
    path("Groups", views.groups, name="groups"),
    path("Groups/.search", views.groups_search, name="groups_search"),
    path("Groups/<str:pk>", views.group, name="group"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="unknown"),
]
