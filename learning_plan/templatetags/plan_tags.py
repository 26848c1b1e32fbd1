"""What the catalogue pages (of review, events and modules, below this app) show of the doctor's plan: a template
tag, so that those apps need not import this one."""

from typing import Any

from django import template

from learning_plan import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def planned_ids(context: dict[str, Any], kind: str) -> frozenset[int]:
    """The ids of the activities of `kind` ("event" or "module") in the signed-in doctor's plan; one query a page."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return frozenset()
    return selectors.planned_ids(doctor_id=user.pk, kind=kind)
