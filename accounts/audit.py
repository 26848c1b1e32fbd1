"""The one helper every service calls to leave an audit row."""

from typing import Any

from django.db import models

from nmo_portal.middleware import current_ip

from .models import AuditEvent, User


def audit_log(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Record `action` (a dotted verb such as 'organization.verify') on `obj` by `actor`.

    The IP comes from the request being served unless given; details must be JSON-serialisable.
    """
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        ip=ip if ip is not None else current_ip.get(),
        details=details,
    )
