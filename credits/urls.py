from django.urls import path

from . import views

app_name = "credits"

urlpatterns = [
    path("me/credits/", views.activate, name="activate"),
    path("me/plan/", views.plan, name="plan"),
    path("me/plan/cycles/", views.cycle_add, name="cycle_add"),
    path("me/plan/cycles/<int:pk>/remove/", views.cycle_remove, name="cycle_remove"),
    path("me/plan/cycles/<int:pk>/report.<str:fmt>", views.plan_report, name="plan_report"),
    path("me/plan/programmes/new/", views.programme_add, name="programme_add"),
    path("me/plan/programmes/<int:pk>/remove/", views.programme_remove, name="programme_remove"),
    path("me/plan/add/<str:kind>/<int:pk>/", views.plan_add, name="plan_add"),
    path("me/plan/planned/<int:pk>/remove/", views.plan_remove, name="plan_remove"),
    path("me/disputes/new/", views.dispute_new, name="dispute_new"),
    path("me/codes/<int:pk>/name-visibility/", views.name_visibility, name="name_visibility"),
    path("provider/events/<int:pk>/codes/", views.event_codes, name="event_codes"),
    path("provider/events/<int:pk>/codes/issue/", views.issue_blank, name="issue_blank"),
    path("provider/events/<int:pk>/codes/upload/", views.issue_file, name="issue_file"),
    path("provider/events/<int:pk>/codes/export.csv", views.codes_export, name="codes_export"),
    path("provider/events/<int:pk>/certificates.pdf", views.event_certificates, name="event_certificates"),
    path("provider/events/<int:pk>/disputes/", views.event_disputes, name="event_disputes"),
    path("provider/batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("provider/codes/<int:pk>/revoke/", views.code_revoke, name="code_revoke"),
    path("provider/codes/<int:pk>/certificate.pdf", views.certificate, name="certificate"),
    path("provider/disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute_resolve"),
    path("verify/<str:token>/", views.verify, name="verify"),
]
