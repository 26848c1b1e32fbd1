"""The kinds of activity that go through the review workflow, as each app registers its own.

Review is the lower layer: events and modules build on it, so it must not import them
(tests/nmo_portal/test_layering.py).
Each app tells review what it needs from its `AppConfig.ready()`; review iterates the kinds or looks one up by
name. Kinds keep the order they were registered in (INSTALLED_APPS: events, then modules), so lists that mix
kinds read as they always have.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import Activity, PublicNumber


def no_extra_problems(activity: Activity) -> list[str]:
    return []


@dataclass(frozen=True)
class ActivityKind:
    model: type[Activity]
    # What the expert reads before deciding, in the API (the catalogue's detail serializer of the kind).
    content_serializer: type[Any]
    # The kind's own rules for a submission, on top of those every activity follows (review.services).
    submission_problems: Callable[[Activity], list[str]] = field(default=no_extra_problems)

    @property
    def name(self) -> str:
        return self.model.kind


_kinds: dict[str, ActivityKind] = {}


def register(kind: ActivityKind) -> None:
    if kind.name not in PublicNumber.Kind.values:
        # public numbers are issued per kind, so the register's table must know it first
        raise ValueError(f"{kind.name!r} is not one of PublicNumber.Kind: add it there (and a migration).")
    _kinds[kind.name] = kind


def all_kinds() -> list[ActivityKind]:
    return list(_kinds.values())


def get(name: str) -> ActivityKind:
    """The kind called `name`; KeyError if no app registered it (a URL's kind is checked with `exists`)."""
    return _kinds[name]


def exists(name: str) -> bool:
    return name in _kinds
