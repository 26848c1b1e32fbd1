from typing import Any

from django.http import HttpRequest

from .selectors import Roles, user_roles


def roles(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's roles for navigation; computed once per request."""
    cached: Roles | None = getattr(request, "_roles", None)
    if cached is None:
        cached = user_roles(request.user) if hasattr(request, "user") else Roles()
        request._roles = cached  # type: ignore[attr-defined]
    return {"roles": cached}
