"""The REST API under /api/v1/: the router of every app's API and the one JSON error shape."""

from typing import Any

from django.http import Http404
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import api as accounts_api

from .errors import PortalError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.Throttled: "too_many_requests",
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error is {"error": {"code": "<stable_code>", "message": "<translated>"}} with a 4xx status."""
    if isinstance(exc, PortalError):
        return Response({"error": {"code": exc.code, "message": str(exc.message)}}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {"code": code, "message": str(_first_message(exc.detail)), "fields": exc.detail}
    else:
        body = {"code": code, "message": str(exc.detail)}
    response.data = {"error": body}
    if response.status_code == status.HTTP_403_FORBIDDEN and isinstance(exc, exceptions.NotAuthenticated):
        response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


def _first_message(detail: Any) -> Any:
    while isinstance(detail, dict | list) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return detail


urlpatterns = [
    path("v1/", include((accounts_api.urlpatterns, "accounts"), namespace="api-accounts")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
