"""Earning pages: ``portal_urlpatterns`` (namespace ``portal``) and ``console_urlpatterns``
(namespace ``console``), both mounted by ``jifen.web_urls``."""

from django.urls import include, path

from jifen.earning import views
from jifen.earning.import_views import pages as import_pages

portal_urlpatterns = [
    path("earn/", views.earn, name="earn"),
    path("earn/rules/<int:pk>/feedback/", views.send_feedback, name="earn_feedback"),
    path("earn/thanks/", views.recognition, name="recognition"),
    path("earn/thanks/people/", views.recognition_people, name="recognition_people"),
    path("earn/team/", views.team_awards, name="team_awards"),
]

console_urlpatterns = [
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/history/", views.rule_history, name="rule_history"),
    path("rules/event-types/", views.event_types, name="event_types"),
    path("rules/events/", views.event_log, name="event_log"),
    path("rules/approvals/", views.approvals, name="approvals"),
    path("rules/approvals/<int:pk>/", views.decide, name="approval_decide"),
    path("rules/shortfalls/", views.shortfalls, name="penalty_shortfalls"),
    path("rules/feedback/", views.feedback_list, name="rule_feedback"),
    path("rules/feedback/<int:pk>/", views.feedback_answer, name="rule_feedback_answer"),
    path("rules/budgets/", views.budgets, name="budgets"),
    path("rules/values/", views.company_values, name="company_values"),
    path("rules/import/", include((import_pages.urlpatterns(), "earning_import"))),
]
