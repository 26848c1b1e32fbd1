from django.urls import path

from . import survey_views, views
from .feeds import SpecialtyAnnouncementsFeed

app_name = "societies"

urlpatterns = [
    path("announcements/", views.announcement_list, name="announcements"),
    path("announcements/<int:pk>/", views.announcement_detail, name="announcement"),
    # before the feeds: "unsubscribe" is no specialty's code
    path("announcements/unsubscribe/<str:token>/", views.digest_unsubscribe, name="digest_unsubscribe"),
    path("announcements/<str:code>/feed/", SpecialtyAnnouncementsFeed(), name="feed"),
    path("me/announcements/digest/", views.digest_settings, name="digest"),
    path("societies/<int:society_id>/announcements/", views.society_announcements, name="society_announcements"),
    path("societies/<int:society_id>/announcements/new/", views.announcement_new, name="announcement_new"),
    path("societies/<int:society_id>/announcements/<int:pk>/edit/", views.announcement_edit, name="announcement_edit"),
    path(
        "societies/<int:society_id>/announcements/<int:pk>/withdraw/",
        views.announcement_withdraw,
        name="announcement_withdraw",
    ),
]

from . import report_views  # noqa: E402 - the report's pages, kept apart from the announcements'

urlpatterns += [
    path("societies/<int:society_id>/report/", report_views.society_report, name="society_report"),
]

# needs surveys
urlpatterns += [
    path("societies/<int:society_id>/surveys/", survey_views.society_surveys, name="society_surveys"),
    path("societies/<int:society_id>/surveys/new/", survey_views.survey_new, name="survey_new"),
    path("societies/<int:society_id>/surveys/template/", survey_views.survey_from_template, name="survey_template"),
    path("societies/<int:society_id>/surveys/<int:pk>/", survey_views.survey_builder, name="survey_builder"),
    path("societies/<int:society_id>/surveys/<int:pk>/edit/", survey_views.survey_edit, name="survey_edit"),
    path("societies/<int:society_id>/surveys/<int:pk>/open/", survey_views.survey_open, name="survey_open"),
    path("societies/<int:society_id>/surveys/<int:pk>/close/", survey_views.survey_close, name="survey_close"),
    path("societies/<int:society_id>/surveys/<int:pk>/publish/", survey_views.survey_publish, name="survey_publish"),
    path(
        "societies/<int:society_id>/surveys/<int:pk>/questions/<int:question_id>/",
        survey_views.question_edit,
        name="question_edit",
    ),
    path(
        "societies/<int:society_id>/surveys/<int:pk>/questions/<int:question_id>/remove/",
        survey_views.question_remove,
        name="question_remove",
    ),
    path("surveys/<int:pk>/", survey_views.survey_answer, name="survey_answer"),
    path("surveys/<int:pk>/results/", survey_views.survey_results, name="survey_results"),
    path("surveys/<int:pk>/results.csv", survey_views.survey_results_csv, name="survey_results_csv"),
]
