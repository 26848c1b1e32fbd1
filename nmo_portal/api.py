"""The REST API under /api/v1/: the router of every app's API and the one JSON error shape."""

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import api as accounts_api
from codes import api as codes_api
from events import api as events_api
from learning_plan import api as learning_plan_api
from modules import api as modules_api
from review import api as review_api
from societies import api as societies_api
from statuses import api as statuses_api

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
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAcceptable: "not_acceptable",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error is {"error": {"code": "<stable_code>", "message": "<translated>"}} with a 4xx status."""
    if isinstance(exc, PortalError):
        return Response({"error": {"code": exc.code, "message": str(exc.message), **exc.details}}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):  # model.full_clean() inside a service
        exc = exceptions.ValidationError(_django_validation_detail(exc))
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


def _django_validation_detail(exc: DjangoValidationError) -> dict[str, list[str]]:
    """The same `fields` shape as a serializer's errors; errors of the whole object go under non_field_errors."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field: messages
        for field, messages in exc.message_dict.items()
    }


class NoSuchOperation(APIView):
    """Any other path under /api/ ending in a slash: the JSON 404 of the API (e.g. `/api/v1/events/0.5/`), not
    the site's HTML page. A path without its slash is left to APPEND_SLASH's redirect, as before."""

    permission_classes = [AllowAny]
    schema = None  # not an operation of the schema

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise exceptions.NotFound


urlpatterns = [
    path("v1/", include((accounts_api.urlpatterns, "accounts"), namespace="api-accounts")),
    path("v1/", include((events_api.urlpatterns, "events"), namespace="api-events")),
    path("v1/", include((modules_api.urlpatterns, "modules"), namespace="api-modules")),
    path("v1/", include((review_api.urlpatterns, "review"), namespace="api-review")),
    path("v1/", include((codes_api.urlpatterns, "codes"), namespace="api-codes")),
    path("v1/", include((learning_plan_api.urlpatterns, "learning_plan"), namespace="api-learning_plan")),
    path("v1/", include((societies_api.urlpatterns, "societies"), namespace="api-societies")),
    path("v1/", include((statuses_api.urlpatterns, "statuses"), namespace="api-statuses")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script; its one inline
    # <style> block is allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
    re_path(r"^(?:.*/)?$", NoSuchOperation.as_view(), name="no-such-operation"),
]
