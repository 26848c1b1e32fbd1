"""Writes of the credit ledger: a credit, its reversal, an administrator's adjustment. Every source of credits
(codes, module completions, adjustments) writes through `ledger_append`."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_log
from accounts.models import DoctorProfile, Specialty, User
from accounts.signals import records_changed
from codes.models import IcpCode
from events.models import Event
from modules.models import Module, ModuleCompletion
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PermissionDenied, PortalError

from .models import CreditEntry, OutboxRecord
from .tasks import announce_credit_entry


def ledger_append(
    *,
    doctor: User,
    kind: str,
    source: str,
    credits: int,
    earned_on: date,
    actor: User | None,
    code: IcpCode | None = None,
    event: Event | None = None,
    module: Module | None = None,
    reverses: CreditEntry | None = None,
    completion: ModuleCompletion | None = None,
    specialty: Specialty | None = None,
    comment: str = "",
) -> CreditEntry:
    """The one way a ledger row is written. Its outbox row is written in the same transaction; after commit one
    task tells the doctor and hands the record to the Ministry (`announce_credit_entry`)."""
    with transaction.atomic(savepoint=False):
        entry = CreditEntry.objects.create(
            doctor=doctor,
            kind=kind,
            source=source,
            credits=credits,
            earned_on=earned_on,
            actor=actor,
            code=code,
            event=event,
            module=module,
            reverses=reverses,
            completion=completion,
            specialty=specialty,
            comment=comment,
        )
        OutboxRecord.objects.create(entry=entry, doctor_id=doctor.pk)
        records_changed(doctor.pk)
        enqueue_on_commit(announce_credit_entry, entry_id=entry.pk)
    return entry


@transaction.atomic
def ledger_reverse(*, credit: CreditEntry, doctor: User, actor: User | None, comment: str) -> CreditEntry:
    """Take a credit back with a reversal row of its own, on the same doctor, activity, source and date."""
    return ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.REVERSAL,
        source=credit.source,
        credits=-credit.credits,
        earned_on=credit.earned_on,
        actor=actor,
        code=credit.code,
        event=credit.event,
        module=credit.module,
        completion=credit.completion,
        reverses=credit,
        comment=comment,
    )


def ledger_adjust(
    *,
    doctor: User,
    credits: int,
    reason: str,
    actor: User,
    event: Event | None = None,
    module: Module | None = None,
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
    if event is not None and module is not None:
        raise PortalError(_("An adjustment concerns one activity at most."), code="invalid_request")
    if not DoctorProfile.objects.filter(user=doctor).exists():
        raise PortalError(
            _("Credits are adjusted for doctors only; this account has no doctor profile."), code="not_a_doctor"
        )
    if event is None and module is None and specialty is None:
        raise PortalError(
            _("Name the activity, or the specialty whose record the adjustment corrects."), code="specialty_required"
        )
    if event is not None or module is not None:
        specialty = None  # the activity's specialties decide
    # an event's credits are earned on its last day; a module's, like a correction of no activity, on the day recorded
    earned_on = event.end_date if event is not None else timezone.localdate()
    entry = ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.ADJUSTMENT,
        source=CreditEntry.Source.ADJUSTMENT,
        credits=credits,
        earned_on=earned_on,
        actor=actor,
        event=event,
        module=module,
        specialty=specialty,
        comment=reason,
    )
    audit_log(
        actor=actor,
        action="ledger.adjust",
        obj=entry,
        doctor=doctor.pk,
        credits=credits,
        event=event.pk if event else None,
        module=module.pk if module else None,
        specialty=specialty.code if specialty else None,
        reason=reason,
    )
    return entry
