"""Writes of the learning plan: cycles, programmes of educational organizations, planned activities, and the
accreditation portfolio (the document, the report, the employer's agreement)."""

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import Specialty, User
from events.models import Event
from modules.models import Module
from nmo_portal.calendar import add_months, today
from nmo_portal.errors import PermissionDenied, PortalError
from review.models import Status

from .models import (
    AccreditationDocument,
    Cycle,
    CycleRule,
    PlannedActivity,
    Portfolio,
    ProgrammeEntry,
    ReportSection,
)
from .portfolio import expiry_of
from .selectors import plan_changed

# The learning plan ------------------------------------------------------------------------------------


def _add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


@transaction.atomic
def cycle_add(*, doctor: User, specialty: Specialty, starts_on: date, rule: CycleRule | None = None) -> Cycle:
    """A five-year cycle in one specialty; cycles of the same specialty may follow but not overlap.

    The doctor's row is locked first, so that two requests at once (a form sent twice) check and insert one
    after the other: the second sees the first's cycle and is told it overlaps. The unique start is still
    caught, should anything write cycles without this lock."""
    rule = rule or CycleRule.objects.get(is_default=True)
    ends_on = _add_years(starts_on, rule.years) - timedelta(days=1)
    User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").get()
    overlapping = Cycle.objects.filter(
        doctor=doctor, specialty=specialty, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).first()
    if overlapping is not None:
        raise _cycle_overlaps(overlapping)
    try:
        with transaction.atomic():
            cycle = Cycle.objects.create(
                doctor=doctor, specialty=specialty, rule=rule, starts_on=starts_on, ends_on=ends_on
            )
    except IntegrityError:
        existing = Cycle.objects.filter(doctor=doctor, specialty=specialty, starts_on=starts_on).first()
        if existing is None:
            raise
        raise _cycle_overlaps(existing) from None
    plan_changed(doctor.pk)
    audit_log(actor=doctor, action="cycle.add", obj=cycle, rule=rule.slug)
    return cycle


def _cycle_overlaps(cycle: Cycle) -> PortalError:
    return PortalError(
        _("This cycle overlaps your cycle %(cycle)s of the same specialty.") % {"cycle": cycle},
        code="cycle_overlaps",
    )


@transaction.atomic
def cycle_remove(*, cycle: Cycle, doctor: User) -> None:
    if cycle.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your cycle."))
    audit_log(actor=doctor, action="cycle.remove", obj=cycle)
    cycle.delete()
    plan_changed(doctor.pk)


@transaction.atomic
def programme_add(*, doctor: User, **fields: Any) -> ProgrammeEntry:
    entry = ProgrammeEntry(doctor=doctor, **fields)
    entry.full_clean()
    entry.save()
    plan_changed(doctor.pk)
    audit_log(actor=doctor, action="programme.add", obj=entry, hours=entry.hours)
    return entry


@transaction.atomic
def programme_remove(*, entry: ProgrammeEntry, doctor: User) -> None:
    if entry.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your record."))
    audit_log(actor=doctor, action="programme.remove", obj=entry)
    entry.delete()
    plan_changed(doctor.pk)


@transaction.atomic
def plan_add(*, doctor: User, event: Event | None = None, module: Module | None = None) -> PlannedActivity:
    activity = event or module
    if activity is None or activity.status != Status.APPROVED:
        raise PortalError(_("Only approved activities from the catalogue can be planned."), code="not_in_catalogue")
    planned, _created = PlannedActivity.objects.get_or_create(doctor=doctor, event=event, module=module)
    plan_changed(doctor.pk)
    return planned


@transaction.atomic
def plan_remove(*, planned: PlannedActivity, doctor: User) -> None:
    if planned.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your plan."))
    planned.delete()
    plan_changed(doctor.pk)


# The accreditation portfolio --------------------------------------------------------------------------------


@transaction.atomic
def document_record(
    *,
    doctor: User,
    specialty: Specialty,
    number: str,
    issued_on: date,
    kind: str = AccreditationDocument.Kind.ACCREDITATION,
) -> AccreditationDocument:
    """The document a cycle renews, with its portfolio. The cycle of the specialty that holds the date of issue
    renews it; when there is none, a cycle on the document's five years is opened."""
    if issued_on > today():
        raise PortalError(_("The date of issue cannot be in the future."), code="document_in_future")
    document = AccreditationDocument(
        doctor=doctor,
        specialty=specialty,
        kind=kind,
        number=number.strip(),
        issued_on=issued_on,
        expires_on=expiry_of(issued_on),
    )
    document.full_clean(exclude=["doctor"])
    User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").get()
    if AccreditationDocument.objects.filter(doctor=doctor, specialty=specialty, issued_on=issued_on).exists():
        raise PortalError(
            _("A document of this specialty issued on that day is already recorded."), code="document_exists"
        )
    document.save()
    Portfolio.objects.create(document=document, doctor=doctor)
    cycle = Cycle.objects.filter(
        doctor=doctor, specialty=specialty, starts_on__lte=issued_on, ends_on__gte=issued_on
    ).first()
    if (
        cycle is None
        and not Cycle.objects.filter(
            doctor=doctor, specialty=specialty, starts_on__lte=document.expires_on, ends_on__gte=issued_on
        ).exists()
    ):
        cycle = cycle_add(doctor=doctor, specialty=specialty, starts_on=issued_on)
    if cycle is not None and cycle.document_id is None:
        cycle.document = document
        cycle.save(update_fields=["document"])
    plan_changed(doctor.pk)
    audit_log(actor=doctor, action="accreditation.record", obj=document, number=document.number)
    return document


def _own_portfolio(portfolio: Portfolio, doctor: User) -> None:
    if portfolio.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your portfolio."))


def _still_editable(portfolio: Portfolio) -> None:
    if portfolio.filing in (Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED):
        raise PortalError(
            _("The portfolio has been filed: it changes again only if the accreditation is refused."),
            code="portfolio_filed",
        )


def _locked(portfolio: Portfolio) -> Portfolio:
    """The portfolio's row as it is now, locked until the transaction ends: a filing recorded meanwhile is seen."""
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    _still_editable(locked)
    return locked


@transaction.atomic
def document_correct(
    *, document: AccreditationDocument, doctor: User, number: str, issued_on: date, kind: str
) -> AccreditationDocument:
    """Correct a document typed wrongly, while its portfolio has not been filed: the expiry, the window and the
    period follow the date of issue. The cycle the document opened (starting on its old date of issue) moves with
    it when it overlaps no other cycle of the specialty; any other cycle is left as the doctor set it."""
    if document.doctor_id != doctor.pk:
        raise PermissionDenied(_("This is not your document."))
    portfolio = Portfolio.objects.filter(document=document).first()
    if portfolio is not None:
        _locked(portfolio)
    if issued_on > today():
        raise PortalError(_("The date of issue cannot be in the future."), code="document_in_future")
    if (
        AccreditationDocument.objects.filter(doctor=doctor, specialty=document.specialty_id, issued_on=issued_on)
        .exclude(pk=document.pk)
        .exists()
    ):
        raise PortalError(
            _("A document of this specialty issued on that day is already recorded."), code="document_exists"
        )
    old_issued_on = document.issued_on
    document.number, document.issued_on, document.kind = number.strip(), issued_on, kind
    document.expires_on = expiry_of(issued_on)
    document.full_clean(exclude=["doctor"])
    document.save()
    cycle = Cycle.objects.filter(document=document, starts_on=old_issued_on).first()
    if cycle is not None and issued_on != old_issued_on:
        ends_on = document.expires_on - timedelta(days=1)
        others = Cycle.objects.filter(
            doctor=doctor, specialty=document.specialty_id, starts_on__lte=ends_on, ends_on__gte=issued_on
        ).exclude(pk=cycle.pk)
        if not others.exists():
            cycle.starts_on, cycle.ends_on = issued_on, ends_on
            cycle.save(update_fields=["starts_on", "ends_on"])
    plan_changed(doctor.pk)
    audit_log(
        actor=doctor,
        action="accreditation.correct",
        obj=document,
        number=document.number,
        issued_on=issued_on.isoformat(),
        was_issued_on=old_issued_on.isoformat(),
    )
    return document


@transaction.atomic
def report_section_save(*, portfolio: Portfolio, doctor: User, section: str, text: str) -> ReportSection:
    """Save one section of the report as a draft; an empty text clears it."""
    _own_portfolio(portfolio, doctor)
    portfolio = _locked(portfolio)
    if section not in ReportSection.Section.values:
        raise PortalError(_("There is no such section of the report."), code="report_section_unknown")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > ReportSection.MAX_CHARS:
        raise PortalError(
            ngettext(
                "A section holds at most %(count)s character.",
                "A section holds at most %(count)s characters.",
                ReportSection.MAX_CHARS,
            )
            % {"count": ReportSection.MAX_CHARS},
            code="report_section_too_long",
        )
    if "\x00" in text:
        raise PortalError(_("The text holds a character that cannot be saved."), code="report_section_invalid")
    saved, _created = ReportSection.objects.update_or_create(
        portfolio=portfolio, section=section, defaults={"text": text}
    )
    audit_log(actor=doctor, action="portfolio.report_section", obj=portfolio, section=section, chars=len(text))
    return saved


@transaction.atomic
def agreement_record(
    *, portfolio: Portfolio, doctor: User, state: str, reason: str = "", not_needed: str = ""
) -> Portfolio:
    """The employer's agreement with the report, as the doctor records it (the employer signs on paper):
    requested, agreed, refused with a reason, or not needed with why."""
    _own_portfolio(portfolio, doctor)
    portfolio = _locked(portfolio)
    reason = reason.strip()
    if state not in Portfolio.Agreement.values or state == Portfolio.Agreement.NOT_RECORDED:
        raise PortalError(_("Choose what the employer answered."), code="agreement_state_unknown")
    if state == Portfolio.Agreement.REFUSED and not reason:
        raise PortalError(_("Say why the employer refused."), code="agreement_reason_missing")
    if state == Portfolio.Agreement.NOT_NEEDED and not_needed not in Portfolio.NotNeeded.values:
        raise PortalError(_("Say why no agreement is needed."), code="agreement_not_needed_reason_missing")
    if len(reason) > 2000 or "\x00" in reason:
        raise PortalError(_("The reason is at most 2000 characters of text."), code="agreement_reason_invalid")
    portfolio.agreement = state
    portfolio.agreement_reason = reason if state == Portfolio.Agreement.REFUSED else ""
    portfolio.agreement_not_needed = not_needed if state == Portfolio.Agreement.NOT_NEEDED else ""
    portfolio.agreement_on = today()
    portfolio.save(
        update_fields=["agreement", "agreement_reason", "agreement_not_needed", "agreement_on", "updated_at"]
    )
    audit_log(actor=doctor, action="portfolio.agreement", obj=portfolio, state=state)
    return portfolio
