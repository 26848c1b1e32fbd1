from django.urls import path

from . import views

app_name = "ministry_sync"

urlpatterns = [
    path("me/ministry/link/", views.link, name="link"),
    path("me/ministry/records/refresh/", views.held_records_refresh, name="held_records_refresh"),
]
