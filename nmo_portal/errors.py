"""The one application error: services raise it, views turn it into a form error, the API into JSON."""

from django.utils.functional import Promise


class PortalError(Exception):
    """A refusal the user can act on. `code` is stable for API clients; `message` is translated."""

    code = "portal_error"
    status = 400

    def __init__(self, message: str | Promise, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
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
