"""The learning plan as pages and the API read it: each cycle's progress against its rule, credited and
planned activities, and the version that keeps its cached render fresh."""

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, CharField, Model, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from codes.format import format_code
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from review import kinds

from .models import Cycle, PlannedActivity, ProgrammeEntry, RuleComponent

# The learning plan ------------------------------------------------------------------------------------


@dataclass
class Record:
    """One credited activity as the doctor sees it: the net credits of its ledger rows."""

    key: str
    kind: str  # "event", "module" or "adjustment"
    title: str
    source: str
    credits: int
    earned_on: date
    specialty_ids: frozenset[int]
    code: str = ""
    first_source: str = ""  # the CreditEntry.Source of its first ledger row, untranslated
    # The cycles it counts in: mostly one, and the same tuple for every record of that cycle (a plan may hold hundreds
    # of records, and every container they keep is one more object for the garbage collector to walk).
    cycles: tuple["CyclePlan", ...] = ()
    not_counted_reason: str = ""
    sync_state: str | None = None


@dataclass
class ComponentProgress:
    component: RuleComponent
    earned: int

    @property
    def required(self) -> int:
        return self.component.required_hours

    @property
    def counted(self) -> int:
        return min(self.earned, self.required)

    @property
    def above(self) -> int:
        return max(self.earned - self.required, 0)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.earned / self.required)) if self.required else 100

    @property
    def done(self) -> bool:
        return self.earned >= self.required


@dataclass
class CyclePlan:
    cycle: Cycle
    components: list[ComponentProgress]
    records: list[Record] = field(default_factory=list)
    programmes: list[ProgrammeEntry] = field(default_factory=list)

    @property
    def required(self) -> int:
        return self.cycle.rule.total_hours

    @property
    def counted(self) -> int:
        """Hours toward the total: each top-level block counts up to its own requirement."""
        return sum(progress.counted for progress in self.components if not progress.component.is_minimum)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.counted / self.required)) if self.required else 100

    @property
    def remaining(self) -> int:
        return max(self.required - self.counted, 0)

    @property
    def days_left(self) -> int:
        return max((self.cycle.ends_on - timezone.localdate()).days, 0)

    @property
    def pace_per_year(self) -> float:
        """Hours a year still needed to finish in time."""
        if not self.remaining:
            return 0.0
        years = max(self.days_left, 1) / 365.25
        return round(self.remaining / years, 1)

    @property
    def expected_by_now(self) -> int:
        """Where an even pace would stand today."""
        total_days = (self.cycle.ends_on - self.cycle.starts_on).days or 1
        passed = min(max((timezone.localdate() - self.cycle.starts_on).days, 0), total_days)
        return round(self.required * passed / total_days)

    @property
    def on_pace(self) -> bool:
        return self.counted >= self.expected_by_now


@dataclass
class Planned:
    item: PlannedActivity
    activity: Any
    done: bool


@dataclass
class LearningPlan:
    cycles: list[CyclePlan]
    records: list[Record]
    not_counted: list[Record]
    planned: list[Planned]
    programmes: list[ProgrammeEntry]


# What a record reads of its ledger rows, as plain values: a plan may hold hundreds, and a model instance per row
# (and one per outbox row beside it) costs more than the rest of the plan's reading together.
_RECORD_COLUMNS = (
    "id",
    "source",
    "activity_kind",
    "activity_id",
    "credits",
    "earned_on",
    "comment",
    "outbox__state",
    "activity_title",
    "code_value",
)


def _records(doctor: User) -> list[Record]:
    """The doctor's ledger rows grouped into records, in one query for the rows (each activity's title and each
    code read alongside by subqueries) and one per kind of activity for the specialties, however many rows."""
    rows = list(
        CreditEntry.objects.filter(doctor=doctor)
        .annotate(
            activity_title=Case(
                *(
                    When(activity_kind=kind.name, then=Subquery(_of_the_row(kind.model).values("title")[:1]))
                    for kind in kinds.all_kinds()
                ),
                default=Value(None),
                output_field=CharField(),
            ),
            code_value=Case(
                When(
                    source=CreditEntry.Source.CODE, then=Subquery(_of_the_row(IcpCode, "source_id").values("code")[:1])
                ),
                default=Value(""),
                output_field=CharField(),
            ),
        )
        .order_by("earned_on", "id")
        .values_list(*_RECORD_COLUMNS)
    )
    specialties = _specialty_ids(doctor, rows)
    sources = {value: str(label) for value, label in CreditEntry.Source.choices}  # translated once, not per row
    grouped: dict[str, Record] = {}
    for pk, source, activity_kind, activity_id, credits, earned_on, comment, outbox_state, title, code in rows:
        if activity_kind and title is not None:
            kind = activity_kind
            key = f"{kind}-{activity_id}"
            ids = specialties[kind].get(activity_id or 0, frozenset())
        else:
            kind, key, ids, title = "adjustment", f"adjustment-{pk}", frozenset(), comment or "—"
        record = grouped.get(key)
        if record is None:
            record = grouped[key] = Record(
                key=key,
                kind=kind,
                title=title,
                source=sources.get(source, source),
                credits=0,
                earned_on=earned_on,
                specialty_ids=ids,
                code=format_code(code) if code else "",
                first_source=source,
            )
        record.credits += credits
        record.sync_state = _worse(record.sync_state, _sync_state(outbox_state))
    return [record for record in grouped.values() if record.credits != 0]


def ledger_activities(doctor: User, kind: str) -> QuerySet[Any]:
    """The ids of the activities of `kind` in the doctor's ledger, as a subquery: hundreds of ids given to `__in`
    cost more in Python, one by one, than the database spends reading them again."""
    return CreditEntry.objects.filter(doctor=doctor, activity_kind=kind).values("activity_id")


def _of_the_row(model: type[Model], column: str = "activity_id") -> QuerySet[Any]:
    queryset: QuerySet[Any] = model._default_manager.filter(pk=OuterRef(column))
    return queryset


def _specialty_ids(doctor: User, rows: Sequence[tuple[Any, ...]]) -> dict[str, dict[int, frozenset[int]]]:
    """kind -> activity id -> the ids of its specialties, read from each kind's own specialties table for the
    activities of the doctor's ledger rows (`rows` are of _RECORD_COLUMNS: which kinds there are)."""
    found: dict[str, dict[int, frozenset[int]]] = defaultdict(dict)
    # Hundreds of activities have a handful of distinct sets of specialties: each set is kept once.
    distinct: dict[frozenset[int], frozenset[int]] = {}

    def shared(specialty_ids: frozenset[int]) -> frozenset[int]:
        return distinct.setdefault(specialty_ids, specialty_ids)

    present = {row[2] for row in rows}
    for kind in kinds.all_kinds():
        if kind.name not in present:
            continue
        field = kind.model._meta.get_field("specialties")
        own, other = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        pairs: dict[int, set[int]] = defaultdict(set)
        for activity_id, specialty_id in field.remote_field.through.objects.filter(  # type: ignore[union-attr]
            **{f"{own}__in": ledger_activities(doctor, kind.name)}
        ).values_list(own, other):
            pairs[activity_id].add(specialty_id)
        found[kind.name] = {
            activity_id: shared(frozenset(specialty_ids)) for activity_id, specialty_ids in pairs.items()
        }
    return found


_SYNC_ORDER = {None: 0, "delivered": 1, "pending": 2, "failed": 3}


def _sync_state(outbox_state: str | None) -> str:
    """Every ledger row is written with its outbox row, and only delivered outbox rows are ever removed (after
    OUTBOX_RETENTION_DAYS): a row without one was passed on."""
    return outbox_state if outbox_state is not None else OutboxRecord.State.DELIVERED


def _worse(current: str | None, new: str | None) -> str | None:
    """A record made of several ledger rows shows its least advanced delivery."""
    return new if _SYNC_ORDER.get(new, 0) > _SYNC_ORDER.get(current, 0) else current


def learning_plan(*, doctor: User) -> LearningPlan:
    """Cycles with their progress, every credited record (counted or explained), planned activities.

    A record counts toward every cycle whose specialty is among its activity's specialties and whose dates
    hold the day it was earned; a record that fits none is listed with the reason.
    """
    cycles = list(
        Cycle.objects.filter(doctor=doctor)
        .select_related("specialty", "rule")
        .prefetch_related("rule__components")
        .order_by("specialty__code", "starts_on")
    )
    records = _records(doctor)
    programmes = list(ProgrammeEntry.objects.filter(doctor=doctor).select_related("specialty"))
    plans = []
    for cycle in cycles:
        mine = [r for r in records if cycle.specialty_id in r.specialty_ids and cycle.holds(r.earned_on)]
        own_programmes = [p for p in programmes if p.specialty_id == cycle.specialty_id and cycle.holds(p.ends_on)]
        sums: dict[str, int] = {
            RuleComponent.Counts.EVENTS: sum(r.credits for r in mine if r.kind == "event"),
            RuleComponent.Counts.MODULES: sum(r.credits for r in mine if r.kind == "module"),
            RuleComponent.Counts.PROGRAMME: sum(p.hours for p in own_programmes),
        }
        sums[RuleComponent.Counts.NMO] = sums[RuleComponent.Counts.EVENTS] + sums[RuleComponent.Counts.MODULES]
        plan = CyclePlan(
            cycle=cycle,
            components=[ComponentProgress(c, sums[c.counts]) for c in cycle.rule.components.all()],
            records=mine,
            programmes=own_programmes,
        )
        only_this = (plan,)
        for record in mine:
            record.cycles = record.cycles + only_this if record.cycles else only_this
        plans.append(plan)
    not_counted = []
    for record in records:
        if record.cycles:
            continue
        same_specialty = [c for c in cycles if c.specialty_id in record.specialty_ids]
        if record.kind == "adjustment":
            record.not_counted_reason = gettext("An adjustment without an activity counts toward no cycle.")
        elif not cycles:
            record.not_counted_reason = gettext("You have no cycle yet: add one to count your credits.")
        elif not same_specialty:
            record.not_counted_reason = gettext("The activity is not of the specialty of any of your cycles.")
        else:
            record.not_counted_reason = gettext("It was earned outside the dates of your cycles of its specialty.")
        not_counted.append(record)
    planned = []
    done_keys = {record.key for record in records if record.credits > 0}
    for item in PlannedActivity.objects.filter(doctor=doctor).select_related("event", "module"):
        activity = item.event or item.module
        key = f"{'event' if item.event_id else 'module'}-{activity.pk if activity else 0}"
        planned.append(Planned(item=item, activity=activity, done=key in done_keys))
    return LearningPlan(cycles=plans, records=records, not_counted=not_counted, planned=planned, programmes=programmes)


# The rendered plan is cached per doctor under a version that every change of the doctor's plan bumps.


def _plan_version_key(doctor_id: int) -> str:
    return f"plan-version:{doctor_id}"


def plan_version(doctor_id: int) -> int:
    key = _plan_version_key(doctor_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, time.time_ns(), None)
        version = cache.get(key) or 0
    return int(version)


def plan_changed(*doctor_ids: int) -> None:
    """Make the cached plans of these doctors stale once the current transaction commits."""

    def bump() -> None:
        for doctor_id in set(doctor_ids):
            cache.set(_plan_version_key(doctor_id), time.time_ns(), None)

    transaction.on_commit(bump)


def planned_ids(*, doctor_id: int, kind: str) -> frozenset[int]:
    """The ids of the events or modules (`kind`) the doctor has planned."""
    column = {"event": "event_id", "module": "module_id"}[kind]
    return frozenset(
        PlannedActivity.objects.filter(doctor_id=doctor_id, **{f"{column}__isnull": False}).values_list(
            column, flat=True
        )
    )
