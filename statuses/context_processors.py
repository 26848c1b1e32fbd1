from typing import Any

from django.http import HttpRequest

from accounts.models import User

from .models import CommissionMember


def commission(request: HttpRequest) -> dict[str, Any]:
    """Whether the signed-in person holds a commission seat now, for the navigation's «Комиссия»: one query for
    a signed-in person, none for anyone else, once per request."""
    cached: bool | None = getattr(request, "_commission_seat", None)
    if cached is None:
        user = getattr(request, "user", None)
        cached = isinstance(user, User) and (
            CommissionMember.objects.filter(user=user, retired_at__isnull=True).exists()
        )
        request._commission_seat = cached  # type: ignore[attr-defined]
    return {"commission_seat": cached}
