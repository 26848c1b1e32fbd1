from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


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
