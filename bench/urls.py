"""The portal's URLs with bench-only Django views in front (ROOT_URLCONF of `bench.settings`).

GET /__bench/django-plan/ is the second reference of `bench/plan.py`: what Django itself costs around the
bare view's work. It runs through the whole middleware stack and `login_required` as the plan page does,
then does what /__bench/bare-plan/ does (one SELECT, the same bare HTML), so the difference between it and
the plan page is the page's own work, and between it and the bare view the framework's.

POST /__bench/django-activate/ (django-floor of `bench/activate.py`) runs the raw endpoint's two statements
inside Django and DRF. POST /__bench/sql-activate/ (django-sql) is the portal's activation written as lean as
it could be, to show the ceiling of any implementation inside Django and DRF: the same rate-limit read from
the cache, then one PostgreSQL statement that claims the code and writes the ledger, outbox and audit rows,
the plan's cache version (and, as the portal since issue 17, no message for the worker, which finds new rows
itself); no ORM. It skips the profile check and the refusal
messages, so it is a bound, not an alternative.
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
from codes import ratelimit
from codes.format import CodeFormatError, format_code, parse_code
from credits.tasks import announce_on_commit
from learning_plan.selectors import plan_changed
from nmo_portal.middleware import client_ip

DJANGO_PLAN_PATH = "/__bench/django-plan/"
DJANGO_ACTIVATE_PATH = "/__bench/django-activate/"
SQL_ACTIVATE_PATH = "/__bench/sql-activate/"

ACTIVATE_SQL = """
WITH claimed AS (
    UPDATE codes_icpcode c SET status = 'activated', activated_by_id = %(user)s, activated_at = now()
    FROM events_event e
    WHERE c.code = %(code)s AND c.status = 'issued' AND e.id = c.event_id AND e.status = 'approved'
      AND e.ends_at <= now()
    RETURNING c.id, c.code, e.id AS event_id, e.title, e.credits_granted,
              e.end_date AS earned_on
), entry AS (
    INSERT INTO credits_creditentry
        (doctor_id, kind, source, source_id, activity_kind, activity_id, credits, earned_on, actor_id, comment,
         created_at)
    SELECT %(user)s, 'credit', 'code', id, 'event', event_id, credits_granted, earned_on, %(user)s, '', now()
    FROM claimed
    RETURNING id, created_at
), outbox AS (
    INSERT INTO credits_outboxrecord (entry_id, doctor_id, idempotency_key, state, attempts,
        next_attempt_at, last_error, ministry_record_id, created_at)
    SELECT id, %(user)s, gen_random_uuid(), 'pending', 0, now(), '', '', now() FROM entry
), audit AS (
    INSERT INTO accounts_auditevent (actor_id, action, object_type, object_id, object_repr, ip, details, created_at)
    SELECT %(user)s, 'code.activate', 'codes.icpcode', id::text, code, %(ip)s,
           json_build_object('event', event_id, 'credits', credits_granted), now()
    FROM claimed
)
SELECT entry.id, claimed.event_id, claimed.title, claimed.credits_granted, claimed.earned_on, claimed.code,
       entry.created_at
FROM claimed, entry
"""


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


class SqlActivateView(APIView):
    """The portal's activation in hand-written SQL inside DRF: a bound on what any implementation can reach."""

    def post(self, request: Request) -> Response:
        user_id, ip = int(request.user.pk or 0), client_ip(request._request)  # IsAuthenticated: a user
        attempt = ratelimit.attempt_start(user_id=user_id, ip=ip)
        if attempt.retry_at is not None:
            return Response({"error": {"code": "too_many_attempts"}}, status=429)
        try:
            code = parse_code(str(request.data.get("code", "")))
        except CodeFormatError:
            attempt.fail()
            return Response({"error": {"code": "code_malformed"}}, status=400)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ACTIVATE_SQL, {"user": user_id, "code": code, "ip": ip})
            row = cursor.fetchone()
            if row is None:
                attempt.fail()
                return Response({"error": {"code": "code_not_found"}}, status=400)
            entry_id, event_id, title, credits, earned_on, code, created_at = row
            plan_changed(user_id)
            announce_on_commit(entry_id)  # as the portal: with a worker, no message (it polls for new rows)
        attempt.finish()  # a success gives its slot back
        body = {
            "id": entry_id,
            "kind": "credit",
            "source": "code",
            "credits": credits,
            "earned_on": earned_on.isoformat(),
            "event": {"id": event_id, "title": title},
            "code": format_code(code),
            "created_at": created_at.isoformat(),
        }
        return Response(body, status=201)


urlpatterns = [
    path(DJANGO_ACTIVATE_PATH.strip("/") + "/", DjangoActivateView.as_view()),
    path(SQL_ACTIVATE_PATH.strip("/") + "/", SqlActivateView.as_view()),
    path(DJANGO_PLAN_PATH.strip("/") + "/", django_plan),
    path("", include("nmo_portal.urls")),
]
