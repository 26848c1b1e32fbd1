from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/<str:kind>/<int:pk>/", views.case, name="case"),
    path("provider/organizations/<int:organization_id>/activities/", views.organization_activities, name="activities"),
]
