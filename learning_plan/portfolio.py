"""The periodic accreditation portfolio as pages, the API and the export read it: per specialty, the document
the doctor renews and its filing window, the education of the document's five years, and readiness against
what accreditation needs (AccreditationAlternative), with the gaps of the alternative closest to being met.

Nothing here writes: the portfolio's writes are in `services.py`."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Specialty, User, WorkRecord
from nmo_portal.calendar import add_months, today

from .education import EducationItem, education_items, hours_by_kind
from .models import (
    AccreditationAlternative,
    AccreditationDocument,
    Portfolio,
    ReportSection,
    RuleComponent,
)
from .selectors import Record, _records

Counts = RuleComponent.Counts

# Dates ------------------------------------------------------------------------------------------------------


def expiry_of(issued_on: date) -> date:
    return add_months(issued_on, 12 * AccreditationDocument.VALID_YEARS)


def period_end(document: AccreditationDocument) -> date:
    """The last day of the portfolio's period: the day before expiry, as the cycle the document opens ends then and
    the window is closed on the expiry day itself."""
    return document.expires_on - timedelta(days=1)


def window_opens_on(expires_on: date) -> date:
    return add_months(expires_on, -settings.ACCREDITATION_WINDOW_MONTHS)


class Window:
    """Where a day stands against a document's filing window: not open yet, open, or closed by expiry."""

    NOT_OPEN = "not_open"
    OPEN = "open"
    EXPIRED = "expired"


def window_state(document: AccreditationDocument, day: date) -> str:
    if day >= document.expires_on:
        return Window.EXPIRED
    if day >= window_opens_on(document.expires_on):
        return Window.OPEN
    return Window.NOT_OPEN


def current_document(doctor: User, specialty: Specialty) -> AccreditationDocument | None:
    """The document the doctor renews now in a specialty: the one issued last."""
    return (
        AccreditationDocument.objects.filter(doctor=doctor, specialty=specialty)
        .select_related("specialty")
        .order_by("-issued_on", "-id")
        .first()
    )


# Readiness --------------------------------------------------------------------------------------------------


class Missing:
    """The stable codes of what keeps a portfolio from being ready (SPEC.md's API contract)."""

    DOCUMENT = "document_missing"
    WORK_RECORD = "work_record_missing"
    REPORT = "report_missing"
    AGREEMENT = "employer_agreement_missing"
    HOURS = "hours_short"


@dataclass
class Gap:
    code: str
    component: str | None = None
    hours: int | None = None

    @property
    def message(self) -> str:
        """What is missing and how to fix it, in the reader's language."""
        if self.code == Missing.HOURS and self.component is None:
            return _("What accreditation needs is not set in the portal yet: write to the portal's support.")
        if self.code == Missing.HOURS:
            name = dict(Counts.choices).get(self.component or "", self.component)
            return ngettext(
                "%(component)s: %(hours)s hour short. Add it to your plan or enter a programme.",
                "%(component)s: %(hours)s hours short. Add them to your plan or enter a programme.",
                self.hours or 0,
            ) % {"component": name, "hours": self.hours}
        return {
            Missing.DOCUMENT: _(
                "Record the accreditation or certificate you renew, with its number and date of issue."
            ),
            Missing.WORK_RECORD: _("Add a work record in this specialty to your work history."),
            Missing.REPORT: _("Write every section of the report on your professional activity."),
            Missing.AGREEMENT: _("Record your employer's agreement with the report, or why none is needed."),
        }[self.code]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code}
        if self.component is not None:
            data["component"] = self.component
        if self.hours is not None:
            data["hours"] = self.hours
        return data


@dataclass
class ComponentHours:
    counts: str
    required: int
    earned: int

    @property
    def short(self) -> int:
        return max(self.required - self.earned, 0)

    @property
    def name(self) -> str:
        return str(dict(Counts.choices).get(self.counts, self.counts))

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.earned / self.required)) if self.required else 100


@dataclass
class AlternativeHours:
    alternative: AccreditationAlternative
    components: list[ComponentHours]

    @property
    def short(self) -> int:
        return sum(component.short for component in self.components)

    @property
    def met(self) -> bool:
        return self.short == 0


def hours_by_counts(*, programme: int, events: int, modules: int, other: int = 0) -> dict[str, int]:
    """Hours of each kind a component may count: НМО is events, modules and other НМО records together."""
    return {
        Counts.PROGRAMME: programme,
        Counts.EVENTS: events,
        Counts.MODULES: modules,
        Counts.NMO: events + modules + other,
    }


def alternatives_against(sums: dict[str, int]) -> list[AlternativeHours]:
    """Each alternative in force with its components' hours: unlike a cycle rule, nothing is capped, and no
    hours count in two components of one alternative unless the components themselves overlap (НМО holds events)."""
    alternatives = (
        AccreditationAlternative.objects.filter(is_active=True, components__isnull=False)
        .distinct()
        .prefetch_related("components")
    )
    return [
        AlternativeHours(
            alternative=alternative,
            components=[
                ComponentHours(counts=c.counts, required=c.required_hours, earned=sums.get(c.counts, 0))
                for c in alternative.components.all()
            ],
        )
        for alternative in alternatives
    ]


def closest(alternatives: list[AlternativeHours]) -> AlternativeHours | None:
    """The alternative met, or else the one fewest hours short (the first in order on a tie)."""
    return min(alternatives, key=lambda alternative: alternative.short, default=None)


# The portfolio of one specialty -----------------------------------------------------------------------------


@dataclass
class SpecialtyPortfolio:
    doctor: User
    specialty: Specialty
    document: AccreditationDocument | None
    portfolio: Portfolio | None
    today: date
    items: list[EducationItem] = field(default_factory=list)
    alternatives: list[AlternativeHours] = field(default_factory=list)
    missing: list[Gap] = field(default_factory=list)
    has_work_record: bool = False
    sections: dict[str, ReportSection] = field(default_factory=dict)

    @property
    def expires_on(self) -> date | None:
        return self.document.expires_on if self.document else None

    @property
    def period_starts_on(self) -> date | None:
        return self.document.issued_on if self.document else None

    @property
    def period_ends_on(self) -> date | None:
        return period_end(self.document) if self.document else None

    @property
    def window_opens_on(self) -> date | None:
        return window_opens_on(self.document.expires_on) if self.document else None

    @property
    def window(self) -> str | None:
        return window_state(self.document, self.today) if self.document else None

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def closest(self) -> AlternativeHours | None:
        return closest(self.alternatives)

    @property
    def total_hours(self) -> int:
        return sum(item.hours for item in self.items)

    @property
    def report_written(self) -> bool:
        return all(
            self.sections.get(section) is not None and self.sections[section].text.strip()
            for section in ReportSection.Section.values
        )

    def hours_json(self) -> list[dict[str, Any]]:
        best = self.closest
        return [
            {"component": c.counts, "required": c.required, "earned": c.earned}
            for c in (best.components if best else [])
        ]


def specialty_portfolio(
    *,
    doctor: User,
    specialty: Specialty,
    day: date | None = None,
    records: list[Record] | None = None,
    document: AccreditationDocument | None = None,
) -> SpecialtyPortfolio:
    """Everything the portfolio page of one specialty shows, and what keeps it from being ready: of the document
    the doctor renews now, or of the `document` given (an export of a portfolio since renewed)."""
    document = document or current_document(doctor, specialty)
    found = SpecialtyPortfolio(
        doctor=doctor,
        specialty=specialty,
        document=document,
        portfolio=None,
        today=day or today(),
        has_work_record=WorkRecord.objects.filter(doctor=doctor, specialty=specialty).exists(),
    )
    if document is not None:
        found.portfolio = (
            Portfolio.objects.filter(document=document)
            .prefetch_related(Prefetch("report_sections", to_attr="sections_list"))
            .first()
        )
        if found.portfolio is not None:
            found.sections = {s.section: s for s in getattr(found.portfolio, "sections_list", [])}
        found.items = education_items(doctor, specialty, document.issued_on, period_end(document), records)
    sums = hours_by_kind(found.items)
    found.alternatives = alternatives_against(
        hours_by_counts(
            programme=sums.get("programme", 0),
            events=sums.get("event", 0),
            modules=sums.get("module", 0),
            other=sums.get("other", 0),
        )
    )
    found.missing = _missing(found)
    return found


def _missing(found: SpecialtyPortfolio) -> list[Gap]:
    gaps = []
    if found.document is None:
        gaps.append(Gap(Missing.DOCUMENT))
    if not found.has_work_record:
        gaps.append(Gap(Missing.WORK_RECORD))
    if not found.report_written:
        gaps.append(Gap(Missing.REPORT))
    agreement = found.portfolio.agreement if found.portfolio else None
    if agreement not in (Portfolio.Agreement.AGREED, Portfolio.Agreement.NOT_NEEDED):
        gaps.append(Gap(Missing.AGREEMENT))
    best = found.closest
    if best is None:  # nothing in force to judge the hours by: not ready until administrators set what is needed
        gaps.append(Gap(Missing.HOURS))
    else:
        gaps.extend(Gap(Missing.HOURS, component=c.counts, hours=c.short) for c in best.components if c.short)
    return gaps


def portfolio_specialties(doctor: User) -> list[Specialty]:
    """The specialties a doctor keeps a portfolio in: those of the profile and those of recorded documents."""
    ids = set(AccreditationDocument.objects.filter(doctor=doctor).values_list("specialty_id", flat=True))
    profile = getattr(doctor, "doctor_profile", None)
    if profile is not None:
        ids |= set(profile.specialties.values_list("pk", flat=True))
    return list(Specialty.objects.filter(pk__in=ids).order_by("code"))


def portfolios(*, doctor: User, day: date | None = None) -> list[SpecialtyPortfolio]:
    """The portfolio of each of the doctor's specialties, reading the ledger once."""
    records = _records(doctor)
    return [
        specialty_portfolio(doctor=doctor, specialty=specialty, day=day, records=records)
        for specialty in portfolio_specialties(doctor)
    ]
