from django.urls import path

from . import views

app_name = "codes"

urlpatterns = [
    path("me/credits/", views.activate, name="activate"),
    path("me/disputes/new/", views.dispute_new, name="dispute_new"),
    path("me/codes/<int:pk>/name-visibility/", views.name_visibility, name="name_visibility"),
    path("provider/events/<int:pk>/codes/", views.event_codes, name="event_codes"),
    path("provider/events/<int:pk>/codes/issue/", views.issue_blank, name="issue_blank"),
    path("provider/events/<int:pk>/codes/upload/", views.issue_file, name="issue_file"),
    path("provider/events/<int:pk>/codes/export.csv", views.codes_export, name="codes_export"),
    path("provider/events/<int:pk>/certificates.pdf", views.event_certificates, name="event_certificates"),
    path(
        "provider/events/<int:pk>/certificates/state/",
        views.event_certificates_state,
        name="event_certificates_state",
    ),
    path("provider/events/<int:pk>/disputes/", views.event_disputes, name="event_disputes"),
    path("provider/batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("provider/codes/<int:pk>/revoke/", views.code_revoke, name="code_revoke"),
    path("provider/codes/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path("provider/disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("verify/<str:token>/", views.verify, name="verify"),
]
