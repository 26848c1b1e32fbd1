"""The portal's URLs with one bench-only Django view in front (ROOT_URLCONF of `bench.settings`).

GET /__bench/django-plan/ is the second reference of `bench/plan.py`: what Django itself costs around the
bare view's work. It runs through the whole middleware stack and `login_required` as the plan page does,
then does what /__bench/bare-plan/ does (one SELECT, the same bare HTML), so the difference between it and
the plan page is the page's own work, and between it and the bare view the framework's.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare import CLAIM_SQL, CREDIT_SQL, LEDGER_SQL, ledger_page

DJANGO_PLAN_PATH = "/__bench/django-plan/"
DJANGO_ACTIVATE_PATH = "/__bench/django-activate/"


@login_required
def django_plan(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_SQL, [request.user.pk])
        rows = cursor.fetchall()
    return HttpResponse(ledger_page(rows), content_type="text/html; charset=utf-8")


class DjangoActivateView(APIView):
    """The raw endpoint's two statements inside Django and DRF, with the portal's API settings (session
    authentication with CSRF, IsAuthenticated, the JSON renderer and parser)."""

    def post(self, request: Request) -> Response:
        user_id = request.user.pk
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, [user_id, request.data.get("code", "")])
            claimed = cursor.fetchone()
            if claimed is None:
                return Response({"error": {"code": "code_not_found"}}, status=400)
            code_id, event_id = claimed
            cursor.execute(CREDIT_SQL, [user_id, code_id, settings.TIME_ZONE, user_id, event_id])
            entry_id, credits, earned_on = cursor.fetchone()
        return Response({"id": entry_id, "credits": credits, "earned_on": str(earned_on), "code_id": code_id}, 201)


urlpatterns = [
    path(DJANGO_ACTIVATE_PATH.strip("/") + "/", DjangoActivateView.as_view()),
    path(DJANGO_PLAN_PATH.strip("/") + "/", django_plan),
    path("", include("nmo_portal.urls")),
]
