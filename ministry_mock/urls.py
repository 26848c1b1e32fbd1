"""URLs of the Ministry portal mock. Mounted at /ministry-mock/ in the dev server, and the whole URL
space when it runs alone (ROOT_URLCONF=ministry_mock.urls on its own port)."""

from django.urls import path

from . import views

app_name = "ministry_mock"

# Used only when this is the root URLconf (the mock alone): the portal's error pages link to portal pages.
handler404 = views.not_found
handler500 = views.server_error

urlpatterns = [
    path("", views.index, name="index"),
    path("status/", views.status, name="status"),
    path("api/v1/accounts/link", views.account_link, name="account_link"),
    path("api/v1/records", views.records_receive, name="records"),
    path("api/v1/specialists/<str:snils>/records", views.specialist_records, name="specialist_records"),
    # Control endpoints, for tests, seeding and operators: the same token, and never subject to the faults.
    path("api/v1/_faults", views.faults, name="faults"),
    path("api/v1/_specialists", views.specialist_create, name="specialist_create"),
    path("api/v1/_reset", views.reset, name="reset"),
]
