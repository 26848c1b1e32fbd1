"""Reads of the review workflow and the public catalogue. Query counts do not grow with the rows."""

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Organization, User

from .models import Activity, Status, parse_public_number


def _search(queryset: QuerySet[Any], q: str, fields: tuple[str, ...]) -> QuerySet[Any]:
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


def catalog_events(filters: dict[str, Any]) -> QuerySet[Any]:
    from events.models import Event

    queryset: QuerySet[Any] = Event.objects.approved().select_related("organization").prefetch_related("specialties")
    if specialty := filters.get("specialty"):
        queryset = queryset.filter(specialties=specialty)
    if fmt := filters.get("format"):
        queryset = queryset.filter(format=fmt)
    if provider := filters.get("provider"):
        queryset = queryset.filter(organization=provider)
    # The event's own calendar days (in its time zone), not the viewer's or the server's.
    if date_from := filters.get("date_from"):
        queryset = queryset.filter(end_date__gte=date_from)
    if date_to := filters.get("date_to"):
        queryset = queryset.filter(start_date__lte=date_to)
    queryset = _search(queryset, filters.get("q", ""), ("title", "programme"))
    return queryset.order_by("starts_at", "id")


def catalog_modules(filters: dict[str, Any]) -> QuerySet[Any]:
    from modules.models import Module

    queryset: QuerySet[Any] = Module.objects.approved().select_related("organization").prefetch_related("specialties")
    if specialty := filters.get("specialty"):
        queryset = queryset.filter(specialties=specialty)
    if provider := filters.get("provider"):
        queryset = queryset.filter(organization=provider)
    if date_from := filters.get("date_from"):
        queryset = queryset.filter(available_until__gte=date_from)
    if date_to := filters.get("date_to"):
        queryset = queryset.filter(available_from__lte=date_to)
    queryset = _search(queryset, filters.get("q", ""), ("title", "annotation"))
    return queryset.order_by("available_from", "id")


def reviewer_queue(*, reviewer: User) -> list[Activity]:
    """The expert's open cases across events and modules, the nearest deadline first (three queries)."""
    from events.models import Event
    from modules.models import Module

    cases: list[Activity] = []
    for model in (Event, Module):
        cases.extend(
            model.objects.filter(reviewer=reviewer, status=Status.IN_REVIEW)
            .select_related("organization")
            .prefetch_related("specialties")
        )
    return sorted(cases, key=lambda case: (case.due_at is None, case.due_at, case.pk))


def reviewer_decided(*, reviewer: User, limit: int = 20) -> list[Activity]:
    from events.models import Event
    from modules.models import Module

    done: list[Activity] = []
    for model in (Event, Module):
        done.extend(
            model.objects.filter(
                reviewer=reviewer, status__in=[Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED]
            ).select_related("organization")[:limit]
        )
    return sorted(done, key=lambda case: case.decided_at or case.updated_at, reverse=True)[:limit]


@dataclass
class OrganizationActivities:
    events: list[Activity]
    modules: list[Activity]


def organization_activities(*, organization: Organization) -> OrganizationActivities:
    from events.models import Event
    from modules.models import Module

    return OrganizationActivities(
        events=list(Event.objects.filter(organization=organization).order_by("-updated_at")),
        modules=list(Module.objects.filter(organization=organization).order_by("-updated_at")),
    )


def activity_timeline(activity: Activity) -> QuerySet[Any]:
    return activity.transitions.select_related("actor").order_by("created_at", "id")  # type: ignore[attr-defined, no-any-return]
