"""The education table of a portfolio's period in one specialty: the register's standing credits, the programmes
the doctor entered and what the Ministry holds from elsewhere (`ministry_education.py`), oldest first."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from accounts.models import Organization, Specialty, User
from ministry_sync.models import HeldRecord
from review import kinds

from .ministry_education import held_education
from .models import ProgrammeEntry, RuleComponent
from .selectors import Record, _records, ledger_activities

Counts = RuleComponent.Counts


class Origin:
    REGISTER = "register"
    PROGRAMME = "programme"
    MINISTRY = "ministry"


# Translated when shown (a table may have hundreds of rows: one lookup a row, not a dictionary of them).
_KIND_LABELS = {
    "programme": gettext_lazy("Programme"),
    "event": gettext_lazy("Educational event"),
    "module": gettext_lazy("E-learning module"),
    "other": gettext_lazy("Other НМО activity"),
}
_ORIGIN_LABELS = {
    Origin.REGISTER: gettext_lazy("The register"),
    Origin.PROGRAMME: gettext_lazy("Entered by you"),
    Origin.MINISTRY: gettext_lazy("The Ministry portal"),
}


@dataclass
class EducationItem:
    """One row of the education table: kind (`programme`, `event`, `module`, `other`), what, who taught it,
    when, hours, the document number or ИКП, and where the row comes from."""

    origin: str
    kind: str
    title: str
    organization: str
    starts_on: date
    ends_on: date
    hours: int
    reference: str = ""

    @property
    def counts(self) -> str:
        return {"programme": Counts.PROGRAMME, "event": Counts.EVENTS, "module": Counts.MODULES}.get(
            self.kind, Counts.NMO
        )

    @property
    def kind_display(self) -> str:
        return str(_KIND_LABELS.get(self.kind, _KIND_LABELS["other"]))

    @property
    def origin_display(self) -> str:
        return str(_ORIGIN_LABELS[self.origin])

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "kind": self.kind,
            "title": self.title,
            "organization": self.organization,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "hours": self.hours,
            "reference": self.reference,
        }


def _register_items(
    doctor: User, records: list[Record], specialty: Specialty, start: date, end: date
) -> list[EducationItem]:
    """Standing credits of the register earned in the period, for activities of the specialty (a reversed
    credit nets to zero and is not among the records)."""
    mine = [
        r
        for r in records
        if r.kind != "adjustment" and specialty.pk in r.specialty_ids and start <= r.earned_on <= end and r.credits > 0
    ]
    # Read as plain values, and each organization once: a period may hold hundreds of records of a few
    # organizations. An activity: (organization id, first day, last day), the days None for a kind without them.
    activities: dict[tuple[str, int], tuple[int, date | None, date | None]] = {}
    kinds_shown = {r.kind for r in mine}
    organizations: list[QuerySet[Any]] = []
    for kind in kinds.all_kinds():
        if kind.name in kinds_shown:
            of_the_ledger = kind.model._default_manager.filter(pk__in=ledger_activities(doctor, kind.name))
            days = ("start_date", "end_date") if hasattr(kind.model, "start_date") else ()  # events have days
            for pk, organization_id, *dated in of_the_ledger.values_list("id", "organization_id", *days):
                starts_on, ends_on = dated or (None, None)
                activities[(kind.name, pk)] = (organization_id, starts_on, ends_on)
            organizations.append(of_the_ledger.values("organization_id").order_by())  # none in a UNION (SQLite)
    names = _organization_names(organizations[0].union(*organizations[1:])) if organizations else {}
    items = []
    for record in mine:
        organization_id, starts_on, ends_on = activities.get(
            (record.kind, int(record.key.split("-", 1)[1])), (0, None, None)
        )
        items.append(
            EducationItem(
                origin=Origin.REGISTER,
                kind=record.kind,
                title=record.title,
                organization=names.get(organization_id, ""),
                starts_on=starts_on or record.earned_on,
                ends_on=ends_on or record.earned_on,
                hours=record.credits,
                reference=record.code,
            )
        )
    return items


def _organization_names(ids: QuerySet[Any]) -> dict[int, str]:
    """Each organization as it is named (its `str()`), read once however many of the activities it taught (`ids`
    is a subquery: hundreds of ids given to `__in` cost more in Python, one by one, than in the database)."""
    return {
        organization.pk: str(organization)
        for organization in Organization.objects.filter(pk__in=ids).only("id", "name", "short_name")
    }


def _programme_items(doctor: User, specialty: Specialty, start: date, end: date) -> list[EducationItem]:
    return [
        EducationItem(
            origin=Origin.PROGRAMME,
            kind="programme",
            title=entry.name,
            organization=entry.organization,
            starts_on=entry.starts_on,
            ends_on=entry.ends_on,
            hours=entry.hours,
            reference=entry.document_number,
        )
        for entry in ProgrammeEntry.objects.filter(
            doctor=doctor, specialty=specialty, ends_on__gte=start, ends_on__lte=end
        )
    ]


_HELD_KINDS: dict[str, str] = {
    HeldRecord.Kind.PROGRAMME: "programme",
    HeldRecord.Kind.EVENTS: "event",
    HeldRecord.Kind.MODULES: "module",
    HeldRecord.Kind.OTHER: "other",
}


def _ministry_items(doctor: User, specialty: Specialty, start: date, end: date) -> list[EducationItem]:
    return [
        EducationItem(
            origin=Origin.MINISTRY,
            kind=_HELD_KINDS.get(record.kind, "other"),
            title=record.title,
            organization="",
            starts_on=record.earned_on,
            ends_on=record.earned_on,
            hours=hours,
            reference=record.source_ref,
        )
        for record, hours in held_education(doctor, specialty, start, end)
    ]


def education_items(
    doctor: User, specialty: Specialty, start: date, end: date, records: list[Record] | None = None
) -> list[EducationItem]:
    """The education of the period in one specialty, from the register, the doctor and the Ministry, oldest first."""
    records = _records(doctor) if records is None else records
    programmes = _programme_items(doctor, specialty, start, end)
    entered = {(item.hours, item.ends_on) for item in programmes} | {
        item.reference.strip().casefold() for item in programmes if item.reference.strip()
    }
    ministry = [
        item
        for item in _ministry_items(doctor, specialty, start, end)
        # A programme the doctor entered that the Ministry holds too (the organization reported it there): once.
        if item.kind != "programme"
        or ((item.hours, item.ends_on) not in entered and item.reference.strip().casefold() not in entered)
    ]
    items = _register_items(doctor, records, specialty, start, end) + programmes + ministry
    items.sort(key=lambda item: (item.ends_on, item.starts_on, item.title))
    return items


def hours_by_kind(items: Iterable[EducationItem]) -> dict[str, int]:
    """Hours of the education table per kind of row (`programme`, `event`, `module`, `other`)."""
    sums: dict[str, int] = {}
    for item in items:
        sums[item.kind] = sums.get(item.kind, 0) + item.hours
    return sums
