"""Reads of the status programmes: who may apply and what is missing, the portfolio frozen at submission, the
doctor's applications and statuses, the commission's queue, and the public register."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Specialty, User, WorkRecord
from accounts.selectors import practice_of
from learning_plan.models import AccreditationDocument
from learning_plan.portfolio import specialty_portfolio
from nmo_portal.calendar import today

from .models import CommissionMember, ProgrammeStage, StageResult, Status, StatusApplication, StatusProgramme


class Missing:
    """The stable codes of what keeps a doctor from applying (the `missing` of `not_eligible`)."""

    DOCUMENT = "document_missing"
    EMPLOYMENT = "employment_in_region_missing"
    PRACTICE = "practice_short"


@dataclass(frozen=True)
class Gap:
    code: str
    years_required: int | None = None
    years: int | None = None
    days_short: int | None = None
    region: str | None = None

    @property
    def message(self) -> str:
        """What is missing and how to fix it, in the reader's language."""
        if self.code == Missing.PRACTICE:
            return ngettext(
                "At least %(required)s year of practice in the specialty is needed%(where)s; your work history "
                "shows %(years)s. Add the periods of work that are missing.",
                "At least %(required)s years of practice in the specialty are needed%(where)s; your work history "
                "shows %(years)s. Add the periods of work that are missing.",
                self.years_required or 0,
            ) % {
                "required": self.years_required,
                "years": self.years,
                "where": _(" in %(region)s") % {"region": self.region} if self.region else "",
            }
        if self.code == Missing.EMPLOYMENT:
            return _(
                "The programme is for doctors who work in %(region)s now: add your current work in the specialty "
                "there to your work history."
            ) % {"region": self.region}
        return _("Record a valid accreditation or specialist certificate in the specialty on your accreditation page.")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        for name in ("years_required", "years", "days_short", "region"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


def programmes() -> QuerySet[StatusProgramme]:
    """Programmes that accept applications, with their specialties and stages in two more queries."""
    return StatusProgramme.objects.filter(is_active=True).prefetch_related(
        Prefetch("specialties", queryset=Specialty.objects.order_by("code")),
        Prefetch("stages", queryset=ProgrammeStage.objects.order_by("position")),
    )


def valid_document(doctor: User, specialty: Specialty, day: date) -> AccreditationDocument | None:
    return (
        AccreditationDocument.objects.filter(doctor=doctor, specialty=specialty, issued_on__lte=day, expires_on__gt=day)
        .order_by("-issued_on", "-id")
        .first()
    )


def _region_records(doctor: User, specialty: Specialty, programme: StatusProgramme) -> list[WorkRecord]:
    records = WorkRecord.objects.filter(doctor=doctor, specialty=specialty)
    if region := programme.practice_region():
        records = records.filter(region=region)
    return list(records)


def eligibility(
    *, doctor: User, programme: StatusProgramme, specialty: Specialty, day: date | None = None
) -> list[Gap]:
    """What keeps `doctor` from applying for `programme`'s status in `specialty` on `day` (nothing: eligible).

    From the work history: years of practice in the specialty, counting only work in the programme's region
    (accounts.selectors.practice_of: whole years by the calendar, so 4 years and 364 days are 4 years), and
    current employment there when the programme requires it; from the accreditation record: a document in the
    specialty valid on `day`."""
    day = day or today()
    gaps: list[Gap] = []
    region_name = programme.region_name or None
    if programme.requires_document and valid_document(doctor, specialty, day) is None:
        gaps.append(Gap(Missing.DOCUMENT))
    records = _region_records(doctor, specialty, programme)
    employed = any(r.ended_on is None and r.started_on <= day for r in records)
    if programme.requires_employment_in_region and programme.region and not employed:
        gaps.append(Gap(Missing.EMPLOYMENT, region=region_name))
    practice = practice_of(records, until=day)
    if practice.years < programme.min_practice_years:
        gaps.append(
            Gap(
                Missing.PRACTICE,
                years_required=programme.min_practice_years,
                years=practice.years,
                region=region_name,
            )
        )
    return gaps


def current_employer_inns(doctor: User, day: date | None = None) -> set[str]:
    """The ИНН of every employer the doctor works for now (records without an end)."""
    day = day or today()
    return set(
        WorkRecord.objects.filter(doctor=doctor, ended_on__isnull=True, started_on__lte=day).values_list(
            "employer_inn", flat=True
        )
    )


def portfolio_snapshot(*, doctor: User, programme: StatusProgramme, specialty: Specialty, day: date) -> dict[str, Any]:
    """The portfolio as the register holds it on `day`, as plain JSON to be frozen with the application: the
    document, the education table of its five years (the ledger, the programmes the doctor entered, what the
    Ministry holds), the hours by kind, the whole work history and the practice that counted."""
    found = specialty_portfolio(doctor=doctor, specialty=specialty, day=day)
    document = valid_document(doctor, specialty, day) or found.document
    work = list(WorkRecord.objects.filter(doctor=doctor).select_related("specialty").order_by("-started_on", "-id"))
    practice = practice_of(_region_records(doctor, specialty, programme), until=day)
    return {
        "taken_on": day.isoformat(),
        "doctor": {"name": doctor.full_name, "email": doctor.email},
        "specialty": {"code": specialty.code, "name": specialty.name},
        "document": (
            {
                "kind": document.kind,
                "kind_display": str(document.get_kind_display()),
                "number": document.number,
                "issued_on": document.issued_on.isoformat(),
                "expires_on": document.expires_on.isoformat(),
            }
            if document
            else None
        ),
        "practice": {
            "days": practice.total_days,
            "years": practice.years,
            "months": practice.months,
            "region": programme.region,
        },
        "work_history": [
            {
                "employer": r.employer,
                "employer_inn": r.employer_inn,
                "region": r.region,
                "unit": r.unit,
                "position": r.position,
                "specialty": r.specialty.code,
                "started_on": r.started_on.isoformat(),
                "ended_on": r.ended_on.isoformat() if r.ended_on else None,
            }
            for r in work
        ],
        "items": [item.as_json() for item in found.items],
        "total_hours": found.total_hours,
    }


def applications_of(*, doctor: User) -> QuerySet[StatusApplication]:
    """The doctor's applications, newest first, with programme, specialty, stage results and status."""
    return (
        StatusApplication.objects.filter(doctor=doctor)
        .select_related("programme", "specialty", "status")
        .prefetch_related(
            Prefetch("stage_results", queryset=StageResult.objects.select_related("stage").order_by("stage__position"))
        )
    )


def statuses_of(*, doctor: User) -> QuerySet[Status]:
    """The doctor's statuses, each with `renewal_pending`: a renewal of it is open or awarded."""
    renewal = StatusApplication.objects.filter(
        renews=OuterRef("pk"), state__in=[StatusApplication.State.OPEN, StatusApplication.State.AWARDED]
    )
    return (
        Status.objects.filter(doctor=doctor)
        .select_related("programme", "specialty")
        .annotate(renewal_pending=Exists(renewal))
    )


def seats_of(user: User) -> QuerySet[CommissionMember]:
    """The commission seats a person holds now."""
    return CommissionMember.objects.filter(user=user, retired_at__isnull=True).select_related("programme", "specialty")


def commission_queue(*, user: User, state: str | None = StatusApplication.State.OPEN) -> QuerySet[StatusApplication]:
    """Applications of the programmes and specialties where `user` holds a seat, oldest first."""
    seats = seats_of(user)
    condition = Q(pk__in=[])
    for seat in seats:
        condition |= Q(programme_id=seat.programme_id, specialty_id=seat.specialty_id)
    found = StatusApplication.objects.filter(condition)
    if state is not None:
        found = found.filter(state=state)
    return (
        found.select_related("programme", "specialty", "doctor")
        .prefetch_related(
            Prefetch("stage_results", queryset=StageResult.objects.select_related("stage").order_by("stage__position"))
        )
        .order_by("submitted_at", "id")
    )


def public_register(*, specialty: Specialty | None = None, day: date | None = None) -> QuerySet[Status]:
    """Holders of a valid status who agreed to be named, by programme and name."""
    found = Status.objects.in_public_register(day or today()).select_related("programme", "specialty", "doctor")
    if specialty is not None:
        found = found.filter(specialty=specialty)
    return found.order_by("programme__name", "specialty__code", "doctor__last_name", "doctor__first_name", "pk")
