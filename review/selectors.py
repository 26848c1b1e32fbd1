"""Reads of the review workflow, and the search the apps' catalogues share. Query counts do not grow with the rows."""

from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Organization, User

from . import kinds
from .models import Activity, Status, parse_public_number


def search_activities(queryset: QuerySet[Any], q: str, fields: tuple[str, ...]) -> QuerySet[Any]:
    """An activity's public number finds that activity (by its unique index); other words are looked for by
    full-text search in Russian on PostgreSQL, by a case-insensitive match elsewhere (SQLite in `make run`)."""
    q = q.strip()
    if not q:
        return queryset
    if (number := parse_public_number(q)) is not None:
        return queryset.filter(public_number=number)
    if connection.vendor == "postgresql":
        vector = SearchVector(*fields, config="russian")
        query = SearchQuery(q, config="russian", search_type="websearch")
        found: QuerySet[Any] = queryset.annotate(search=vector).filter(search=query)
        return found
    # SQLite folds the case of ASCII letters only, so Cyrillic is matched as typed, lower case and capitalised.
    condition = Q()
    for field in fields:
        for variant in {q, q.lower(), q.capitalize()}:
            condition |= Q(**{f"{field}__icontains": variant})
    return queryset.filter(condition)


def reviewer_queue(*, reviewer: User) -> list[Activity]:
    """The expert's open cases across events and modules, the nearest deadline first (three queries)."""
    cases: list[Activity] = []
    for kind in kinds.all_kinds():
        cases.extend(
            kind.model.objects.filter(reviewer=reviewer, status=Status.IN_REVIEW)
            .select_related("organization")
            .prefetch_related("specialties")
        )
    return sorted(cases, key=lambda case: (case.due_at is None, case.due_at, case.pk))


def reviewer_decided(*, reviewer: User, limit: int = 20) -> list[Activity]:
    done: list[Activity] = []
    for kind in kinds.all_kinds():
        done.extend(
            kind.model.objects.filter(
                reviewer=reviewer, status__in=[Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED]
            ).select_related("organization")[:limit]
        )
    return sorted(done, key=lambda case: case.decided_at or case.updated_at, reverse=True)[:limit]


def organization_activities(*, organization: Organization) -> dict[str, list[Activity]]:
    """The organization's activities by kind ("event", "module"), the last changed first."""
    return {
        kind.name: list(kind.model.objects.filter(organization=organization).order_by("-updated_at"))
        for kind in kinds.all_kinds()
    }


def changes_requested(activity: Activity) -> Any:
    """The expert's request for changes the provider has still to act on (its comment, who and when), or None:
    shown at the top of the activity's page, not only in its history."""
    if activity.status != Status.CHANGES_REQUESTED:
        return None
    return activity_timeline(activity).filter(to_status=Status.CHANGES_REQUESTED).last()


def activity_timeline(activity: Activity) -> QuerySet[Any]:
    return activity.transitions.select_related("actor").order_by("created_at", "id")  # type: ignore[attr-defined, no-any-return]
