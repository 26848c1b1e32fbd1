"""Writes of the credit ledger: a credit, its reversal, an administrator's adjustment. Every source of credits
(codes, module completions, adjustments) writes through `ledger_append`."""

from datetime import date
from typing import Any, Protocol, runtime_checkable

from django.db import transaction
from django.db.models import Count, Subquery
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_log
from accounts.models import DoctorProfile, Specialty, User
from accounts.signals import records_changed
from nmo_portal.errors import PermissionDenied, PortalError
from review.models import Activity

from .models import CreditEntry, OutboxRecord
from .tasks import announce_on_commit


def ledger_append(
    *,
    doctor: User,
    kind: str,
    source: str,
    credits: int,
    earned_on: date,
    actor: User | None,
    source_id: int | None = None,
    activity: Activity | None = None,
    specialty: Specialty | None = None,
    comment: str = "",
) -> CreditEntry:
    """The one way a ledger row is written: earned by the code or completion `source_id` names, for `activity`
    (an event or a module).

    A credit of a code or a completion is numbered one past the credits of that source to this doctor that
    have been reversed, in the INSERT itself: the first credit is 1, a credit after a reversal 2, and so on.
    While a credit of the source stands, a second one counts the same reversals and takes the standing
    credit's number, which the unique constraint `ledger_one_credit_per_source_number` refuses
    (IntegrityError); so do two new credits of one source at the same instant, which count alike. The
    callers refuse both cases earlier and in words, holding the source's row (the claim on the code, the
    lock on the completion), so that the error is only the database's last word."""
    numbered = {}
    if kind == CreditEntry.Kind.CREDIT and source_id is not None:
        numbered["credit_number"] = _next_credit_number(doctor=doctor, source=source, source_id=source_id)
    return _write(
        doctor=doctor,
        kind=kind,
        source=source,
        source_id=source_id,
        activity_kind=activity.kind if activity is not None else "",
        activity_id=activity.pk if activity is not None else None,
        credits=credits,
        earned_on=earned_on,
        actor=actor,
        specialty=specialty,
        comment=comment,
        **numbered,
    )


def _next_credit_number(*, doctor: User, source: str, source_id: int) -> Combinable:
    """One past the number of this doctor's credits of this source that have been reversed, as a subquery of
    the INSERT (no statement of its own on the activation path). The INSERT returns the number it wrote, as it
    returns every field with a db_default (PostgreSQL and SQLite)."""
    reversed_credits = (
        CreditEntry.objects.filter(
            doctor=doctor,
            kind=CreditEntry.Kind.CREDIT,
            source=source,
            source_id=source_id,
            reversed_by__isnull=False,
        )
        .order_by()
        .values("doctor")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(reversed_credits), 0) + 1


def ledger_reverse(*, credit: CreditEntry, doctor: User, actor: User | None, comment: str) -> CreditEntry:
    """Take a credit back with a reversal row of its own, on the same doctor, activity, source and date."""
    return _write(
        doctor=doctor,
        kind=CreditEntry.Kind.REVERSAL,
        source=credit.source,
        source_id=credit.source_id,
        activity_kind=credit.activity_kind,
        activity_id=credit.activity_id,
        credits=-credit.credits,
        earned_on=credit.earned_on,
        actor=actor,
        reverses=credit,
        credit_number=credit.credit_number,
        comment=comment,
    )


def _write(**fields: Any) -> CreditEntry:
    """The row and its outbox row commit together; then the doctor is told and the record handed to the
    Ministry (`credits.tasks`: after commit from here when tasks run in-process, else by the worker's poll)."""
    with transaction.atomic(savepoint=False):
        entry = CreditEntry.objects.create(**fields)
        OutboxRecord.objects.create(entry=entry, doctor_id=entry.doctor_id)
        records_changed(entry.doctor_id)
        announce_on_commit(entry.pk)
    return entry


@runtime_checkable
class Dated(Protocol):
    """An activity held on days of its own (an event): its credits are earned on its last day."""

    end_date: date


def ledger_adjust(
    *,
    doctor: User,
    credits: int,
    reason: str,
    actor: User,
    activity: Activity | None = None,
    specialty: Specialty | None = None,
) -> CreditEntry:
    """An administrator's correction of a doctor's credits: a ledger row of its own (the rows already there are
    never edited), with its outbox and audit rows. Signed; the activity, if any, decides the cycle it counts in.
    One with no activity names the specialty whose record it corrects at the Ministry."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only the portal administrators adjust credits."))
    reason = reason.strip()
    if not credits:
        raise PortalError(_("An adjustment adds or removes at least one credit."), code="adjustment_zero")
    if not reason:
        raise PortalError(_("Write the reason for the adjustment: the doctor will see it."), code="reason_required")
    if not DoctorProfile.objects.filter(user=doctor).exists():
        raise PortalError(
            _("Credits are adjusted for doctors only; this account has no doctor profile."), code="not_a_doctor"
        )
    if activity is None and specialty is None:
        raise PortalError(
            _("Name the activity, or the specialty whose record the adjustment corrects."), code="specialty_required"
        )
    if activity is not None:
        specialty = None  # the activity's specialties decide
    # an event's credits are earned on its last day; a module's, like a correction of no activity, on the day recorded
    earned_on = activity.end_date if isinstance(activity, Dated) else timezone.localdate()
    entry = ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.ADJUSTMENT,
        source=CreditEntry.Source.ADJUSTMENT,
        credits=credits,
        earned_on=earned_on,
        actor=actor,
        activity=activity,
        specialty=specialty,
        comment=reason,
    )
    audit_log(
        actor=actor,
        action="ledger.adjust",
        obj=entry,
        doctor=doctor.pk,
        credits=credits,
        event=activity.pk if activity is not None and activity.kind == "event" else None,
        module=activity.pk if activity is not None and activity.kind == "module" else None,
        specialty=specialty.code if specialty else None,
        reason=reason,
    )
    return entry
