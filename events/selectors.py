"""Reads of the public catalogue of approved events; the search they share lives in review.selectors."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet

from review.selectors import filter_by_provider, search_activities

from .models import Event, days_after_first


def _utc_midnight(day: date, days_later: int) -> datetime | None:
    """Midnight in UTC of the day `days_later` days after `day`; None past the calendar's ends (year 1 or 9999)."""
    try:
        return datetime.combine(day + timedelta(days=days_later), time(), tzinfo=UTC)
    except OverflowError:
        return None


def longest_event_days() -> int | None:
    """The most days an approved event runs after its first, from the last entry of `event_catalog_span_idx` on
    PostgreSQL; None when there is no approved event."""
    longest: timedelta | None = Event.objects.approved().aggregate(longest=Max(days_after_first()))["longest"]
    return None if longest is None else longest.days


def _starts_between(date_from: date | None, date_to: date | None) -> Q:
    """Bounds on `starts_at` that the days filter implies, which add no condition but let PostgreSQL read the window
    from the catalogue's index in its order (status, starts_at) where it would walk that index from the first event
    ever held: the planner cannot know that «ends on or after the 1st» and «starts by the 31st» leave one month.

    An event's first day in its own zone (UTC−12 to UTC+14) is at most a day off its start's day in UTC: «starts by
    `date_to`» means it starts before midnight UTC of `date_to` + 2 days. «Ends on or after `date_from`» means it
    starts on or after `date_from` less the longest approved event's days (read from an index), so after midnight
    UTC of the day before that."""
    bounds = Q()
    if date_to and (before := _utc_midnight(date_to, 2)):
        bounds &= Q(starts_at__lt=before)
    if (
        date_from
        and (longest := longest_event_days()) is not None
        and (after := _utc_midnight(date_from, -longest - 1))
    ):
        bounds &= Q(starts_at__gte=after)
    return bounds


def catalog_events(filters: dict[str, Any]) -> QuerySet[Any]:
    queryset: QuerySet[Any] = Event.objects.approved().select_related("organization").prefetch_related("specialties")
    if specialty := filters.get("specialty"):
        queryset = queryset.filter(specialties=specialty)
    if fmt := filters.get("format"):
        queryset = queryset.filter(format=fmt)
    if (provider := filters.get("provider")) is not None:
        queryset = filter_by_provider(queryset, provider)
    # The event's own calendar days (in its time zone), not the viewer's or the server's.
    if date_from := filters.get("date_from"):
        queryset = queryset.filter(end_date__gte=date_from)
    if date_to := filters.get("date_to"):
        queryset = queryset.filter(start_date__lte=date_to)
    queryset = queryset.filter(_starts_between(date_from, date_to))
    queryset = search_activities(queryset, filters.get("q", ""))
    return queryset.order_by("starts_at", "id")
