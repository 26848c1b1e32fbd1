from django.urls import path

from . import views
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
