"""The portal's URLs with one bench-only Django view in front (ROOT_URLCONF of `bench.settings`).

GET /__bench/django-plan/ is the second reference of `bench/plan.py`: what Django itself costs around the
bare view's work. It runs through the whole middleware stack and `login_required` as the plan page does,
then does what /__bench/bare-plan/ does (one SELECT, the same bare HTML), so the difference between it and
the plan page is the page's own work, and between it and the bare view the framework's.
"""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from bench.bare import LEDGER_SQL, ledger_page

DJANGO_PLAN_PATH = "/__bench/django-plan/"


@login_required
def django_plan(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_SQL, [request.user.pk])
        rows = cursor.fetchall()
    return HttpResponse(ledger_page(rows), content_type="text/html; charset=utf-8")


urlpatterns = [
    path(DJANGO_PLAN_PATH.strip("/") + "/", django_plan),
    path("", include("nmo_portal.urls")),
]
