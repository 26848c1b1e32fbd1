"""Reads of the public catalogue of approved e-learning modules; the search they share lives in review.selectors."""

from typing import Any

from django.db.models import QuerySet

from review.selectors import filter_by_provider, search_activities

from .models import Module


def catalog_modules(filters: dict[str, Any]) -> QuerySet[Any]:
    queryset: QuerySet[Any] = Module.objects.approved().select_related("organization").prefetch_related("specialties")
    if specialty := filters.get("specialty"):
        queryset = queryset.filter(specialties=specialty)
    if (provider := filters.get("provider")) is not None:
        queryset = filter_by_provider(queryset, provider)
    if date_from := filters.get("date_from"):
        queryset = queryset.filter(available_until__gte=date_from)
    if date_to := filters.get("date_to"):
        queryset = queryset.filter(available_from__lte=date_to)
    queryset = search_activities(queryset, filters.get("q", ""))
    return queryset.order_by("available_from", "id")
