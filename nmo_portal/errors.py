"""The one application error: services raise it, views turn it into a form error, the API into JSON."""

from typing import Any

from django.utils.functional import Promise


class PortalError(Exception):
    """A refusal the user can act on. `code` is stable for API clients; `message` is translated."""

    code = "portal_error"
    status = 400

    def __init__(
        self,
        message: str | Promise,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        # Machine-readable particulars the API adds beside code and message (e.g. `missing` of not_eligible).
        self.details = details or {}
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class PermissionDenied(PortalError):
    code = "permission_denied"
    status = 403


class NotFound(PortalError):
    code = "not_found"
    status = 404
