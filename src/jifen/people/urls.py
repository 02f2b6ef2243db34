"""Sign-in pages (``urlpatterns``, mounted at the root) and the people pages of the console
(``console_urlpatterns``, mounted under /console/ in the ``console`` namespace by
``jifen.web_urls``)."""

from django.urls import path

from jifen.people import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/password/", views.password_change, name="password_change"),
]

console_urlpatterns = [
    path("people/", views.people_list, name="people"),
    path("people/export/", views.people_export, name="people_export"),
    path("people/new/", views.employee_create, name="employee_create"),
    path("people/<int:pk>/", views.employee_detail, name="employee_detail"),
    path("people/<int:pk>/edit/", views.employee_edit, name="employee_edit"),
    path("people/<int:pk>/left/", views.employee_left, name="employee_left"),
    path("people/<int:pk>/roles/", views.employee_roles, name="employee_roles"),
    path("departments/", views.departments, name="departments"),
    path("departments/new/", views.department_create, name="department_create"),
    path("departments/<int:pk>/edit/", views.department_edit, name="department_edit"),
]

# Sign-in settings: policy, identity providers, second-factor resets (jifen.people.sso).
from jifen.people.sso import views as sso_views  # noqa: E402

console_urlpatterns += [
    path("sign-in/", sso_views.sign_in_settings, name="sign_in_settings"),
    path("sign-in/providers/new/", sso_views.provider_edit, name="sso_provider_create"),
    path("sign-in/providers/<int:pk>/", sso_views.provider_edit, name="sso_provider_edit"),
    path("sign-in/providers/<int:pk>/delete/", sso_views.provider_delete,
         name="sso_provider_delete"),
    path("people/<int:pk>/second-factor/reset/", sso_views.second_factor_reset,
         name="second_factor_reset"),
]
