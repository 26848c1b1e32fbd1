"""The portal's WSGI application with bench-only paths in front of it: `gunicorn bench.wsgi`.

POST /__bench/raw-activate/ is the baseline of `bench/activate.py`: the database work of an activation and
nothing else. It reads the session cookie and the user id from the session table (as the session
middleware does), checks the CSRF header against the cookie, claims the code with one conditional UPDATE
and writes the ledger row with one INSERT, in one transaction, on Django's own connection (the same
connection policy, CONN_MAX_AGE included, as the portal's requests).

GET /__bench/bare-plan/ is the baseline of `bench/plan.py`: the signed-in doctor from the session table as
above, then one SELECT of the doctor's ledger rows rendered as a bare HTML table (`bench.bare`).

Every other path goes to Django.
"""

import hmac
import json
import os
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmo_portal.settings")

from django.core.wsgi import get_wsgi_application

from bench.bare import CLAIM_SQL, CREDIT_SQL, LEDGER_SQL, ledger_page

django_application = get_wsgi_application()

# Imported once the application is set up: the session store needs the app registry.

from django.conf import settings  # noqa: E402
from django.contrib.auth import SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core import signals  # noqa: E402
from django.db import connection, transaction  # noqa: E402

RAW_ACTIVATE_PATH = "/__bench/raw-activate/"
BARE_PLAN_PATH = "/__bench/bare-plan/"

_SESSION = "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > now()"
StartResponse = Callable[..., Any]


def _reply(start_response: StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def _session_user_id(cookies: SimpleCookie) -> str | None:
    """The user id in the session the cookie names, read and decoded as the session middleware does."""
    session = cookies.get(settings.SESSION_COOKIE_NAME)
    if session is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_SESSION, [session.value])
        row = cursor.fetchone()
    user_id: str | None = SessionStore().decode(row[0]).get(SESSION_KEY) if row else None
    return user_id


def _raw_activate(environ: dict[str, Any]) -> tuple[str, dict[str, object]]:
    cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    csrf = cookies.get(settings.CSRF_COOKIE_NAME)
    header = environ.get("HTTP_X_CSRFTOKEN", "")
    if csrf is None or not header or not hmac.compare_digest(csrf.value, header):
        return "403 Forbidden", {"error": {"code": "csrf"}}
    user_id = _session_user_id(cookies)
    if user_id is None:
        return "401 Unauthorized", {"error": {"code": "not_authenticated"}}
    length = int(environ.get("CONTENT_LENGTH") or 0)
    code = json.loads(environ["wsgi.input"].read(length) or b"{}").get("code", "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [user_id, code])
        claimed = cursor.fetchone()
        if claimed is None:
            return "400 Bad Request", {"error": {"code": "code_not_found"}}
        code_id, event_id = claimed
        cursor.execute(CREDIT_SQL, [user_id, code_id, settings.TIME_ZONE, user_id, event_id])
        entry_id, credits, earned_on = cursor.fetchone() or (None, None, None)
    return "201 Created", {"id": entry_id, "credits": credits, "earned_on": str(earned_on), "code_id": code_id}


def _bare_plan(environ: dict[str, Any]) -> tuple[str, bytes]:
    user_id = _session_user_id(SimpleCookie(environ.get("HTTP_COOKIE", "")))
    if user_id is None:
        return "401 Unauthorized", b"not signed in"
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_SQL, [user_id])
        rows = cursor.fetchall()
    return "200 OK", ledger_page(rows)


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
    if (path, method) not in ((RAW_ACTIVATE_PATH, "POST"), (BARE_PLAN_PATH, "GET")):
        return django_application(environ, start_response)
    # The signals Django's handler sends: they open and close (or keep) the connection the same way.
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        if path == BARE_PLAN_PATH:
            status, page = _bare_plan(environ)
        else:
            status, body = _raw_activate(environ)
    finally:
        signals.request_finished.send(sender=__name__)
    if path == BARE_PLAN_PATH:
        start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))])
        return [page]
    return _reply(start_response, status, body)
