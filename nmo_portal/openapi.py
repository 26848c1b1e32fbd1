"""The OpenAPI schema's account of errors: every operation lists the 4xx answers it can give, with the one error
shape of `nmo_portal.api.exception_handler` (the `ErrorResponse` component)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class _AttendeeRefSerializer(serializers.Serializer[dict[str, str]]):
    full_name = serializers.CharField()
    email = serializers.CharField()


class _RowProblemSerializer(serializers.Serializer[dict[str, Any]]):
    row = serializers.IntegerField()
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """A refusal: a stable `code` for programs, a translated `message` for people, and, for some codes, what
    else the caller needs to act on it."""

    code = serializers.CharField(help_text="Stable, e.g. `invalid`, `not_found`, `code_taken`.")
    message = serializers.CharField(help_text="In the caller's language.")
    # DRF's metaclass takes declared fields off the class, so this does not hide Serializer.fields at run time
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        required=False,
        help_text="`invalid`: the messages of each field sent (`non_field_errors` for the whole request).",
    )
    retry_at = serializers.DateTimeField(required=False, help_text="`too_many_attempts`: when to try again.")
    opens_at = serializers.DateTimeField(required=False, help_text="When the code can be activated.")
    activated_at = serializers.DateTimeField(required=False, help_text="`code_already_yours`: when.")
    dispute = serializers.BooleanField(required=False, help_text="A dispute can be opened about this code.")
    skipped = _AttendeeRefSerializer(
        many=True, required=False, help_text="`codes_already_held`: attendees who already hold a code."
    )
    rows = _RowProblemSerializer(many=True, required=False, help_text="`attendees_invalid`: what is wrong where.")


class ErrorResponseSerializer(serializers.Serializer[dict[str, Any]]):
    error = ErrorSerializer()


_ERROR_DESCRIPTIONS = {
    400: "The request is not valid (`invalid` with `fields`, or a rule's own code; `malformed_request` for a NUL "
    "character anywhere in the query string, on any path).",
    401: "Not signed in, or the API key is not valid or has been revoked.",
    403: "Not allowed for this caller (or, in a browser session, no CSRF token for a write).",
    404: "Nothing of this id among what the caller may see, or a page past the end.",
    409: "Not possible in the object's current state (e.g. `illegal_transition`).",
    415: "The body's content type is not one the operation reads (JSON, form or multipart).",
    429: "Too many requests or attempts: wait and try again.",
}


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers of each operation, with the `ErrorResponse` shape.

    400 and 401 everywhere (a NUL character in the query string is refused on any path, before the view, by
    nmo_portal.middleware.RequestBoundsMiddleware; a wrong API key is refused on any path); 403 when the view has
    permissions beyond AllowAny; 404 with a path parameter or a paginated list; 415 with a body; 409 when the
    action depends on the object's state (an edit, submit, withdraw, a decision);
    409 and 429 where the view says so in `error_statuses` (method -> statuses).
    """

    STATE_ACTIONS = frozenset({"submit", "withdraw", "decision", "update", "partial_update"})

    def _error_statuses(self) -> set[int]:
        statuses = {400, 401}
        method = self.method.lower()
        if method in ("post", "put", "patch"):
            statuses.add(415)
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses.add(403)
        paginated = method == "get" and self._is_list_view() and self._get_paginator() is not None  # type: ignore[no-untyped-call]
        if "{" in self.path or paginated:
            statuses.add(404)
        if getattr(self.view, "action", None) in self.STATE_ACTIONS:
            statuses.add(409)
        statuses.update(getattr(self.view, "error_statuses", {}).get(method, ()))
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self._get_response_for_code(ErrorResponseSerializer, "400")  # type: ignore[no-untyped-call]
        for code in sorted(self._error_statuses()):
            responses.setdefault(str(code), {**error, "description": _ERROR_DESCRIPTIONS[code]})
        return responses
