"""Reads of the commission's pages: which applications of a page a member must leave to another member (the
conflict of interest for a whole page in a fixed number of queries), the stages of one application in order with
the one to record next, and the portfolio frozen at submission, read back from its JSON."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from accounts.models import User, WorkRecord
from accounts.selectors import Practice
from accounts.work import REGION_NAMES
from learning_plan.education import EducationItem
from nmo_portal.calendar import today

from .models import CommissionMember, ProgrammeStage, StageResult, StatusApplication


def conflicted(*, user: User, seats: Iterable[CommissionMember], applications: Iterable[StatusApplication]) -> set[int]:
    """The ids of `applications` on which `user` must not act: their own, or one whose applicant's current employer
    (at submission or now) is the member's own, by any of the member's seats' ИНН (`seats`: all the member's
    active seats) or the member's current work. The same rule as services.has_conflict, in two queries for the
    whole page instead of two per row."""
    applications = list(applications)
    if not applications:
        return set()
    day = today()
    # Every seat's employer counts, whichever commission the application is before.
    seat_inns = {s.employer_inn for s in seats}
    employers: dict[int, set[str]] = defaultdict(set)
    doctors = {a.doctor_id for a in applications} | {user.pk}
    for doctor_id, inn in WorkRecord.objects.filter(
        doctor_id__in=doctors, ended_on__isnull=True, started_on__lte=day
    ).values_list("doctor_id", "employer_inn"):
        employers[doctor_id].add(inn)
    found = set()
    for application in applications:
        own = employers[user.pk] | seat_inns
        if application.doctor_id == user.pk or own & (
            set(application.employer_inns) | employers[application.doctor_id]
        ):
            found.add(application.pk)
    return found


def next_result(application: StatusApplication) -> StageResult | None:
    """The stage an open application waits for: the first one without a result (stage_results prefetched in
    order). A closed application waits for nothing."""
    if not application.is_open:
        return None
    for result in application.stage_results.all():
        if not result.is_recorded:
            return result
    return None


@dataclass
class StageRow:
    stage: ProgrammeStage
    result: StageResult | None
    is_next: bool

    @property
    def is_recorded(self) -> bool:
        return self.result is not None and self.result.is_recorded


def stage_rows(application: StatusApplication) -> list[StageRow]:
    """Every stage of the programme in order with its result (a stage added after submission has none yet);
    the next stage to record is the first without a result while the application is open."""
    results = {r.stage_id: r for r in application.stage_results.select_related("recorded_by")}
    rows: list[StageRow] = []
    waiting = application.is_open
    for stage in application.programme.stages.order_by("position"):
        result = results.get(stage.pk)
        recorded = result is not None and result.is_recorded
        rows.append(StageRow(stage=stage, result=result, is_next=waiting and not recorded))
        if not recorded:
            waiting = False
    return rows


def all_stages_passed(rows: list[StageRow]) -> bool:
    return bool(rows) and all(row.result is not None and row.result.passed for row in rows)


@dataclass
class FrozenWork:
    employer: str
    employer_inn: str
    region: str
    unit: str
    position: str
    specialty: str
    started_on: date
    ended_on: date | None


@dataclass
class FrozenItem(EducationItem):
    """A row of the frozen education table; where it came from as the commission reads it (the doctor's own
    page says «entered by you»)."""

    @property
    def origin_display(self) -> str:
        return {
            "register": _("The register"),
            "programme": _("Entered by the doctor"),
            "ministry": _("The Ministry portal"),
        }.get(self.origin, self.origin)


@dataclass
class KindHours:
    kind_display: str
    hours: int


@dataclass
class FrozenPortfolio:
    """application.snapshot with its dates as dates, for the page."""

    taken_on: date | None
    document: dict[str, object] | None
    practice: Practice
    practice_region: str
    work: list[FrozenWork] = field(default_factory=list)
    items: list[FrozenItem] = field(default_factory=list)
    total_hours: int = 0

    @property
    def hours_by_kind(self) -> list[KindHours]:
        hours: dict[str, int] = {}
        for item in self.items:
            hours[item.kind_display] = hours.get(item.kind_display, 0) + item.hours
        return [KindHours(kind_display=k, hours=h) for k, h in sorted(hours.items())]


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def frozen_portfolio(application: StatusApplication) -> FrozenPortfolio:
    snapshot = application.snapshot or {}
    document = snapshot.get("document")
    if document:
        document = {
            **document,
            "issued_on": _day(document.get("issued_on")),
            "expires_on": _day(document.get("expires_on")),
        }
    practice = snapshot.get("practice") or {}
    work = [
        FrozenWork(
            employer=r.get("employer", ""),
            employer_inn=r.get("employer_inn", ""),
            region=REGION_NAMES.get(r.get("region", ""), r.get("region", "")),
            unit=r.get("unit", ""),
            position=r.get("position", ""),
            specialty=r.get("specialty", ""),
            started_on=_day(r.get("started_on")) or date.min,
            ended_on=_day(r.get("ended_on")),
        )
        for r in snapshot.get("work_history", [])
    ]
    items = [
        FrozenItem(
            origin=i.get("origin", ""),
            kind=i.get("kind", ""),
            title=i.get("title", ""),
            organization=i.get("organization", ""),
            starts_on=_day(i.get("starts_on")) or date.min,
            ends_on=_day(i.get("ends_on")) or date.min,
            hours=int(i.get("hours") or 0),
            reference=i.get("reference", ""),
        )
        for i in snapshot.get("items", [])
    ]
    return FrozenPortfolio(
        taken_on=_day(snapshot.get("taken_on")),
        document=document,
        practice=Practice(
            total_days=int(practice.get("days") or 0),
            years=int(practice.get("years") or 0),
            months=int(practice.get("months") or 0),
        ),
        practice_region=REGION_NAMES.get(practice.get("region") or "", ""),
        work=work,
        items=items,
        total_hours=int(snapshot.get("total_hours") or 0),
    )
