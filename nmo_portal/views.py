"""The portal's own pages, and how every page shows a service's refusal."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from .errors import PortalError


@dataclass
class Refusal:
    """What refusal_shown caught: false while the block ran through, so the page goes on to its success."""

    error: PortalError | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextmanager
def refusal_shown(
    request: HttpRequest,
    *,
    form: BaseForm | None = None,
    field: Callable[[PortalError], str | None] | None = None,
    forbidden_page: bool = False,
) -> Iterator[Refusal]:
    """Run a service call and show its PortalError where the page shows refusals: given `form`, as the form's
    error (on the field `field` names for it, else the whole form) so the page renders again with it; without,
    as a flash message before the page's redirect. With `forbidden_page`, a 403 refusal is Django's 403 page
    instead, as for anyone reaching an action that is not theirs. Nothing else is caught.

        with refusal_shown(request) as refused:
            batch = issuance.codes_issue(...)
        if not refused:
            messages.success(...)
    """
    refusal = Refusal()
    try:
        yield refusal
    except PortalError as exc:
        if forbidden_page and exc.status == 403:
            raise DjangoPermissionDenied from exc
        refusal.error = exc
        if form is not None:
            form.add_error(field(exc) if field is not None else None, str(exc.message))
        else:
            messages.error(request, str(exc.message))


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """503 only when the database does not answer; for load balancers and compose. Redis is reported too, but
    the portal works without it (activations go on, tasks wait in the outbox), so a Redis outage answers 200
    with the status "degraded" rather than taking every web server out of service."""
    checks: dict[str, str] = {}
    status = "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy, and the reason is reported
        checks["database"] = f"error: {exc.__class__.__name__}"
        status = "error"
    if settings.REDIS_URL:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {exc.__class__.__name__}"
            status = "degraded" if status == "ok" else status
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == "error" else 200)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): the portal's own, not a 404."""
    return redirect(static("favicon.svg"), permanent=True)
