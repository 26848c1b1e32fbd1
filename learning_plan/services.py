"""Writes of the learning plan: cycles, programmes of educational organizations, planned activities."""

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_log
from accounts.models import Specialty, User
from events.models import Event
from modules.models import Module
from nmo_portal.errors import PermissionDenied, PortalError
from review.models import Status

from .models import Cycle, CycleRule, PlannedActivity, ProgrammeEntry
from .selectors import plan_changed

# The learning plan ------------------------------------------------------------------------------------


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


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
