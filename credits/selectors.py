"""Reads of the credit ledger.

A ledger row names what earned it (`source`, `source_id`) and what it credits (`activity_kind`, `activity_id`)
by kind and id. `described()` loads those objects for a page: activities through review's registry of
activity kinds, sources through the loaders that the parts writing them register here from their
`AppConfig.ready()` (codes, modules). The ledger imports none of them.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from review import kinds

from .models import CreditEntry

SourceLoader = Callable[[Collection[int]], Mapping[int, Any]]
_source_loaders: dict[str, SourceLoader] = {}


def register_source(source: str, load: SourceLoader) -> None:
    """How to load, by id, the objects that rows of `source` name (the ИКП codes, the module completions)."""
    _source_loaders[source] = load


def doctor_ledger(*, doctor: User) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(doctor=doctor).select_related("outbox").order_by("-earned_on", "-created_at")


def described(entries: Iterable[CreditEntry], *, specialties: bool = False) -> list[CreditEntry]:
    """The rows, each with `activity` (the event or module, its organization loaded, and its specialties when
    asked) and `source_object` (the ИКП code or module completion) set: one query per kind of activity and per
    source, however many rows."""
    rows = list(entries)
    activity_ids: dict[str, set[int]] = defaultdict(set)
    source_ids: dict[str, set[int]] = defaultdict(set)
    for entry in rows:
        if entry.activity_kind and entry.activity_id is not None:
            activity_ids[entry.activity_kind].add(entry.activity_id)
        if entry.source_id is not None and entry.source in _source_loaders:
            source_ids[entry.source].add(entry.source_id)
    activities: dict[str, Mapping[int, Any]] = {}
    for kind, ids in activity_ids.items():
        queryset = kinds.get(kind).model.objects.select_related("organization")
        if specialties:
            queryset = queryset.prefetch_related("specialties")
        activities[kind] = queryset.in_bulk(ids)
    sources = {source: _source_loaders[source](ids) for source, ids in source_ids.items()}
    for entry in rows:
        entry.activity = activities.get(entry.activity_kind, {}).get(entry.activity_id)  # type: ignore[arg-type]
        entry.source_object = sources.get(entry.source, {}).get(entry.source_id)  # type: ignore[arg-type]
    return rows
