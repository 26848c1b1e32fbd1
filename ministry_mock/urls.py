"""URLs of the Ministry portal mock. Mounted at /ministry-mock/ in the dev server, and the whole URL
space when it runs alone (ROOT_URLCONF=ministry_mock.urls on its own port)."""

from django.urls import path

from . import views

app_name = "ministry_mock"

urlpatterns = [path("status/", views.status, name="status")]
