"""Reads of the public catalogue of approved events; the search they share lives in review.selectors."""

from typing import Any

from django.db.models import QuerySet

from review.selectors import filter_by_provider, search_activities

from .models import Event


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
    queryset = search_activities(queryset, filters.get("q", ""))
    return queryset.order_by("starts_at", "id")
