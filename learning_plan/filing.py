"""Filing the accreditation portfolio and recording its outcome, and the stages after filing with their
estimated dates.

The doctor files through ФРМР (via Госуслуги), outside the portal, and records here that they did; then the
outcome. A positive outcome records the new document, which opens the next cycle; a refusal reopens the
portfolio for changes, and it may be filed again.

The stages' durations are data (FilingStage). Their dates are estimates, counted in working days of the
Russian production calendar as the `holidays` library keeps it: public holidays, the days off moved by the
Government's yearly decree (a Friday between holidays, say) and the Saturdays or Sundays those moves make
working days."""

from datetime import date, timedelta

import holidays
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import Specialty, User
from nmo_portal.calendar import today
from nmo_portal.errors import PortalError

from .models import AccreditationDocument, Cycle, FilingStage, Portfolio
from .portfolio import current_document
from .selectors import plan_changed
from .services import _own_portfolio, document_record

Filing = Portfolio.Filing

# As long as the models keep them: a refusal's note, and a document's number.
NOTE_MAX_CHARS = 2000
NUMBER_MAX_CHARS = 60
# How far ahead a stage may look for its month (a commission on the last Tuesday): never an endless loop.
LOOKAHEAD_MONTHS = 24


def portfolio_path(specialty_code: str) -> str:
    """The portfolio page of a specialty, where the filing panel is."""
    return reverse("learning_plan:portfolio", args=[specialty_code])


# The production calendar -------------------------------------------------------------------------------------


def production_calendar(around: date) -> holidays.HolidayBase:
    """Russia's production calendar for the years around a date. The library fills further years as they are
    asked; the year before is loaded too, since a decree may move a day off from one year into the next."""
    return holidays.country_holidays("RU", years=range(around.year - 1, around.year + 3))


def add_working_days(day: date, days: int, calendar: holidays.HolidayBase) -> date:
    """The working day `days` working days after `day`; with 0, `day` itself when it is a working day, else the
    next working day."""
    return calendar.get_nth_working_day(day, days)


def last_working_weekday(day: date, weekday: int, calendar: holidays.HolidayBase) -> date:
    """The last `weekday` (0 Monday … 6 Sunday) of the month that is a working day, on or after `day`: that of
    `day`'s month, or of the next month when it has passed. A holiday on that weekday (23 February 2027 is a
    Tuesday) is not a sitting: the weekday a week before it is."""
    year, month = day.year, day.month
    for _month in range(LOOKAHEAD_MONTHS):
        next_first = date(year + month // 12, month % 12 + 1, 1)
        candidate = next_first - timedelta(days=1)
        candidate -= timedelta(days=(candidate.weekday() - weekday) % 7)
        while candidate.month == month and not calendar.is_working_day(candidate):
            candidate -= timedelta(days=7)
        if candidate.month == month and candidate >= day:
            return candidate
        year, month = next_first.year, next_first.month
    raise ValueError(f"no working weekday {weekday} within {LOOKAHEAD_MONTHS} months of {day}")


def stage_estimates(filed_on: date) -> list[tuple[FilingStage, date]]:
    """Each stage after a filing on `filed_on`, with the day it is estimated to end: each stage starts when the
    one before it ends."""
    calendar = production_calendar(filed_on)
    estimates = []
    day = filed_on
    for stage in FilingStage.objects.all():
        if stage.rule == FilingStage.Rule.LAST_WEEKDAY:
            day = last_working_weekday(day, stage.weekday, calendar)
        else:
            day = add_working_days(day, stage.days, calendar)
        estimates.append((stage, day))
    return estimates


# Filing and its outcome -------------------------------------------------------------------------------------


def _locked(portfolio: Portfolio) -> Portfolio:
    """The portfolio's row, locked: a form sent twice records one filing and one new document."""
    return Portfolio.objects.select_for_update().select_related("document__specialty").get(pk=portfolio.pk)


def _date_checked(day: date, *, code: str) -> None:
    if day > today():
        raise PortalError(_("The date cannot be in the future."), code=code)


@transaction.atomic
def filing_record(*, portfolio: Portfolio, doctor: User, filed_on: date) -> Portfolio:
    """The doctor filed the portfolio in ФРМР on `filed_on`: it becomes read-only until the outcome.

    A portfolio being prepared or refused may be filed; the date is not in the future, not before the document
    it renews was issued, and not before the refusal it answers. A date before the filing window opens is
    accepted: the doctor records what happened, and the window's length is a setting that sources differ on."""
    _own_portfolio(portfolio, doctor)
    locked = _locked(portfolio)
    if locked.filing == Filing.FILED and locked.filed_on == filed_on:
        return locked  # the same form sent twice (a double click): recorded once, and the doctor is told it is
    if locked.filing == Filing.FILED:
        raise PortalError(_("The filing is already recorded; record its outcome."), code="portfolio_already_filed")
    if locked.filing == Filing.ACCREDITED:
        raise PortalError(_("This portfolio has been accredited already."), code="portfolio_accredited")
    document = locked.document
    current = current_document(doctor, document.specialty)
    if current is None or current.pk != document.pk:
        raise PortalError(
            _("A newer document of this specialty is recorded: file the portfolio that renews it."),
            code="portfolio_superseded",
        )
    _date_checked(filed_on, code="filing_in_future")
    if filed_on < document.issued_on:
        raise PortalError(
            _("The filing date cannot be before the document it renews was issued."), code="filing_before_issue"
        )
    again = locked.filing == Filing.REFUSED
    if again and locked.outcome_on is not None and filed_on < locked.outcome_on:
        raise PortalError(_("The filing date cannot be before the refusal it answers."), code="filing_before_refusal")
    locked.filing = Filing.FILED
    locked.filed_on = filed_on
    locked.outcome_on = None
    locked.outcome_note = ""
    locked.save(update_fields=["filing", "filed_on", "outcome_on", "outcome_note", "updated_at"])
    audit_log(actor=doctor, action="portfolio.file", obj=locked, filed_on=filed_on.isoformat(), again=again)
    portfolio.refresh_from_db()
    return portfolio


@transaction.atomic
def outcome_record(
    *,
    portfolio: Portfolio,
    doctor: User,
    accredited: bool,
    outcome_on: date,
    note: str = "",
    new_number: str | None = None,
    new_issued_on: date | None = None,
) -> Portfolio:
    """The outcome of a filed portfolio. Accredited: the new document (its number, and its date of issue, the
    outcome's date unless given) is recorded, and the cycle that renews it opens. Refused: the note says why,
    and the portfolio is open for changes again, to be filed again."""
    _own_portfolio(portfolio, doctor)
    locked = _locked(portfolio)
    if locked.filing in (Filing.ACCREDITED, Filing.REFUSED):
        raise PortalError(_("The outcome of this filing is already recorded."), code="outcome_already_recorded")
    filed_on = locked.filed_on  # a filed portfolio has its date (portfolio_filed_has_date)
    if locked.filing != Filing.FILED or filed_on is None:
        raise PortalError(_("Record the filing first: an outcome follows a filing."), code="portfolio_not_filed")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_CHARS or "\x00" in note:
        raise PortalError(
            ngettext(
                "The note is at most %(count)s character of text.",
                "The note is at most %(count)s characters of text.",
                NOTE_MAX_CHARS,
            )
            % {"count": NOTE_MAX_CHARS},
            code="outcome_note_invalid",
        )
    _date_checked(outcome_on, code="outcome_in_future")
    if outcome_on < filed_on:
        raise PortalError(_("The outcome cannot be before the filing."), code="outcome_before_filing")
    new_document = None
    if accredited:
        new_document = _new_document_record(
            portfolio=locked,
            doctor=doctor,
            number=new_number or "",
            issued_on=new_issued_on or outcome_on,
            filed_on=filed_on,
        )
        locked.filing = Filing.ACCREDITED
    else:
        if not note:
            raise PortalError(_("Say why the accreditation was refused."), code="outcome_note_missing")
        locked.filing = Filing.REFUSED
    locked.outcome_on = outcome_on
    locked.outcome_note = note
    locked.save(update_fields=["filing", "outcome_on", "outcome_note", "updated_at"])
    audit_log(
        actor=doctor,
        action="portfolio.outcome",
        obj=locked,
        accredited=accredited,
        outcome_on=outcome_on.isoformat(),
        new_document=new_document.pk if new_document is not None else None,
    )
    portfolio.refresh_from_db()
    return portfolio


def _new_document_record(
    *, portfolio: Portfolio, doctor: User, number: str, issued_on: date, filed_on: date
) -> AccreditationDocument:
    """The accreditation a positive outcome gives, and the cycle that renews it. The cycle running on its date of
    issue is the one just renewed: it ends the day before, so that the new cycle starts with the new document
    (document_record opens it). A cycle the doctor had already added after that date is the new one."""
    number = number.strip()
    if not number:
        raise PortalError(_("Enter the number of the new accreditation."), code="new_document_number_missing")
    if len(number) > NUMBER_MAX_CHARS or "\x00" in number:
        raise PortalError(
            ngettext(
                "The number is at most %(count)s character of text.",
                "The number is at most %(count)s characters of text.",
                NUMBER_MAX_CHARS,
            )
            % {"count": NUMBER_MAX_CHARS},
            code="new_document_number_invalid",
        )
    _date_checked(issued_on, code="document_in_future")
    if issued_on < filed_on:
        raise PortalError(
            _("The new accreditation cannot be issued before the filing."), code="new_document_before_filing"
        )
    specialty = portfolio.document.specialty
    User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").get()
    _renewed_cycle_end(doctor=doctor, specialty=specialty, old=portfolio.document, before=issued_on)
    document = document_record(
        doctor=doctor,
        specialty=specialty,
        number=number,
        issued_on=issued_on,
        kind=AccreditationDocument.Kind.ACCREDITATION,
    )
    if not document.cycles.exists():
        planned = (
            Cycle.objects.filter(
                doctor=doctor,
                specialty=specialty,
                document__isnull=True,
                starts_on__gt=issued_on,
                starts_on__lte=document.expires_on,
            )
            .order_by("starts_on")
            .first()
        )
        if planned is not None:
            planned.document = document
            planned.save(update_fields=["document"])
            plan_changed(doctor.pk)
    return document


def _renewed_cycle_end(*, doctor: User, specialty: Specialty, old: AccreditationDocument, before: date) -> None:
    cycle = (
        Cycle.objects.select_for_update()
        .filter(doctor=doctor, specialty=specialty, starts_on__lt=before, ends_on__gte=before)
        .first()
    )
    if cycle is None or cycle.document_id not in (None, old.pk):
        return
    ends_on = before - timedelta(days=1)
    if ends_on <= cycle.starts_on:
        return  # a cycle of a day cannot be; the doctor's plan stays as it is
    previous_end = cycle.ends_on
    cycle.ends_on = ends_on
    cycle.save(update_fields=["ends_on"])
    plan_changed(doctor.pk)
    audit_log(
        actor=doctor,
        action="cycle.end",
        obj=cycle,
        ends_on=ends_on.isoformat(),
        was=previous_end.isoformat(),
        reason="accredited",
    )
