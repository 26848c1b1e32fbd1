import zoneinfo
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

# The client address of the request being served, read by the audit helper so that services need not
# carry the request around. Empty outside a request (management commands, Celery tasks).
current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    # Behind our own reverse proxy REMOTE_ADDR is the proxy; the entry it appended is the last one.
    # Without a proxy the header is the client's own word and must not be believed (rate limits use it).
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class UserTimezoneMiddleware:
    """Shows times in the zone the user chose; Europe/Moscow for everyone else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone = getattr(user, "timezone", "") if user is not None and user.is_authenticated else ""
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class LanguageMiddleware:
    """Russian unless the person chose otherwise: the language cookie (the switcher), else the language in
    their profile. The browser's Accept-Language is deliberately not consulted: this is a Russian registry
    whose English version is an option, not a guess."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in supported and request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META:
            # API clients ask for a language on purpose; a browser page does not get guessed at.
            language = translation.get_language_from_request(request)
        if language not in supported:
            user = getattr(request, "user", None)
            language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response


class RequestBoundsMiddleware:
    """Answers 400 to a request with a NUL character in its path, query string or cookies, and 413 to a body
    larger than REQUEST_MAX_BYTES, before anything reads them.

    PostgreSQL refuses NUL in text, so such a value would fail deep in a query; no page or API means one.
    Forms and serializers refuse NUL in the body's fields themselves (Django's and DRF's CharField). Django
    bounds form bodies (DATA_UPLOAD_MAX_MEMORY_SIZE) but not the stream DRF's JSON parser reads, nor files."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if (
            "\x00" in request.path
            or "\x00" in query
            or "%00" in query
            or any("\x00" in name or "\x00" in value for name, value in request.COOKIES.items())
        ):
            return _refuse(request, 400, "malformed_request", lambda: _("The request contains a NUL character."))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            return _refuse(
                request,
                413,
                "request_too_large",
                lambda: (
                    _("The request is larger than %(limit)s: files are accepted up to %(files)s.")
                    % {
                        "limit": filesizeformat(settings.REQUEST_MAX_BYTES),
                        "files": filesizeformat(settings.UPLOAD_MAX_BYTES),
                    }
                ),
            )
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, code: str, message: Callable[[], str]) -> HttpResponse:
    """The refusal as the API's JSON, or as a page of its own. This runs before sessions and the user's language
    are known, so the page says it in Russian and in English, as the server-error page does, with a way back."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": code, "message": message()}}, status=status)
    texts = {}
    for language in ("ru", "en"):
        with translation.override(language):
            texts[language] = message()
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    body = render_to_string("request_refused.html", {"status": status, "texts": texts, "back": back})
    return HttpResponse(body, status=status)
