from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("catalog/providers/", views.catalog_providers, name="catalog_providers"),
    path("review/", views.queue, name="queue"),
    path("review/<str:kind>/<int:pk>/", views.case, name="case"),
    path("provider/organizations/<int:organization_id>/activities/", views.organization_activities, name="activities"),
    path("provider/organizations/<int:organization_id>/experts/", views.society_experts, name="society_experts"),
    path(
        "provider/organizations/<int:organization_id>/experts/appoint/",
        views.society_expert_appoint,
        name="society_expert_appoint",
    ),
    path(
        "provider/organizations/<int:organization_id>/experts/<int:appointment_id>/retire/",
        views.society_expert_retire,
        name="society_expert_retire",
    ),
    path(
        "provider/organizations/<int:organization_id>/experts/<int:appointment_id>/hand-over/",
        views.society_cases_hand_over,
        name="society_cases_hand_over",
    ),
]
