"""Writes of codes and credits: issuance, activation, revocation, disputes and the ledger.

Activation is the hot path of the evening after a congress. It reads the code once, decides every refusal
without a lock, and claims the code with one conditional UPDATE on the code's own row: PostgreSQL
re-checks `status = 'issued'` after waiting for a concurrent claimant, so exactly one account wins.
A partial unique index (one activated code per doctor and event) refuses a doctor's second code of the
same event at the same instant.
"""

import contextlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.audit import audit_log
from accounts.models import DoctorProfile, Membership, Specialty, User
from accounts.services import require_verified
from accounts.snils import validate_snils
from events.models import Event
from modules.models import Module
from nmo_portal.calendar import EARLIEST_YEAR, LATEST_YEAR, local_date, moment_text, within_register_years
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PermissionDenied, PortalError
from review.models import Status

from . import ratelimit
from .attendees import Attendee
from .certificates import build_event_certificates, mail_certificates
from .codes import CodeFormatError, format_code, generate_codes, parse_code
from .models import (
    CreditEntry,
    Cycle,
    CycleRule,
    Dispute,
    EventCertificatesFile,
    IcpCode,
    IssuanceBatch,
    ModuleCompletion,
    PlannedActivity,
    ProgrammeEntry,
    new_verify_token,
)
from .report import csv_cell
from .selectors import plan_changed
from .tasks import announce_credit_entry, issue_batch

# SPEC's wording in Russian (the translation of this message), and its English counterpart.
CODE_NOT_FOUND = gettext_lazy("The code was not activated. Perhaps the code is wrong or it was activated before.")


class ActivationError(PortalError):
    """A refused activation. `details` carries what the page shows beside the message."""

    def __init__(self, message: str, *, code: str, status: int = 400, details: dict[str, object] | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.details = details or {}


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
    """The one way a ledger row is written. Its Ministry outbox row is written in the same transaction; after
    commit one task hands the record to the Ministry and tells the doctor (`announce_credit_entry`)."""
    from ministry_sync.services import outbox_add

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
        outbox_add(entry)
        plan_changed(doctor.pk)
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


_when = moment_text


@dataclass(frozen=True)
class DoctorIdentity:
    email_confirmed: bool
    snils: str | None

    @property
    def problems(self) -> list[str]:
        """What the doctor must still do before activating codes."""
        problems = []
        if not self.email_confirmed:
            problems.append(_("confirm your e-mail address"))
        if not self.snils:
            problems.append(_("enter your СНИЛС in the profile"))
        return problems


def doctor_identity(user: User) -> DoctorIdentity:
    """Whether the account has a confirmed e-mail, and the СНИЛС of its profile: one query on the hot path."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            email_confirmed=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)),
            profile_snils=Subquery(DoctorProfile.objects.filter(user=OuterRef("pk")).values("snils")[:1]),
        )
        .values_list("email_confirmed", "profile_snils")
        .first()
    )
    if row is None:
        return DoctorIdentity(email_confirmed=False, snils=None)
    return DoctorIdentity(email_confirmed=bool(row[0]), snils=row[1] or None)


def profile_problems(user: User) -> list[str]:
    return doctor_identity(user).problems


def code_activate(*, user: User, raw: str, ip: str | None) -> CreditEntry:
    """Activate the code typed by a signed-in doctor and credit the event once. Every refusal is an
    ActivationError with a stable code; failures that look like guessing count toward the limits."""
    attempt = ratelimit.attempt_start(user_id=user.pk, ip=ip)  # increment, then compare: exact under bursts
    retry_at = attempt.retry_at
    if retry_at is not None:
        raise ActivationError(
            _("Too many unsuccessful attempts. Try again after %(time)s.") % {"time": _when(retry_at)},
            code="too_many_attempts",
            status=429,
            details={"retry_at": retry_at.isoformat()},
        )
    try:
        return _code_activate(user=user, raw=raw, ip=ip, attempt=attempt)
    finally:
        attempt.finish()  # gives the slot back unless the attempt failed


def _code_activate(*, user: User, raw: str, ip: str | None, attempt: ratelimit.Attempt) -> CreditEntry:
    # Read from the database every time: a remembered answer could outlive a СНИЛС removed a moment ago.
    identity = doctor_identity(user)
    problems = identity.problems
    if problems:
        raise ActivationError(
            _("Before activating codes, %(steps)s.") % {"steps": _(" and ").join(problems)},
            code="profile_incomplete",
            status=403,
        )

    def fail(message: str, code: str, details: dict[str, object] | None = None) -> ActivationError:
        attempt.fail()
        return ActivationError(message, code=code, details=details)

    try:
        value = parse_code(raw)
    except CodeFormatError as exc:
        shown = exc.normalized or "—"
        if exc.reason == "check":
            message = _("There is a typo in the code %(code)s: please check it against the certificate.")
        elif exc.reason == "symbol":
            message = _("The code %(code)s has a symbol that never appears in codes: please check it.")
        else:
            message = _("A code has 12 symbols, as XXXX-XXXXXXXX; we read %(code)s.")
        raise fail(message % {"code": shown}, "code_malformed", {"normalized": shown}) from exc

    code = _code_with_event(value)
    if code is None or code.event.status != Status.APPROVED:
        raise fail(str(CODE_NOT_FOUND), "code_not_found")
    refusal = _refusal(code, user, snils=identity.snils)
    if refusal is not None:
        if refusal.code in ("code_taken", "code_issued_to_another", "code_revoked"):
            attempt.fail()
        raise refusal
    event = code.event
    now = timezone.now()
    if event.ends_at > now:
        raise ActivationError(
            _("Codes of «%(event)s» can be activated once the event has ended, from %(time)s.")
            % {"event": event.title, "time": _when(event.ends_at)},
            code="event_not_finished",
            details={"opens_at": event.ends_at.isoformat()},
        )
    try:
        with transaction.atomic():
            claimed = IcpCode.objects.filter(pk=code.pk, status=IcpCode.Status.ISSUED).update(
                status=IcpCode.Status.ACTIVATED, activated_by=user, activated_at=now
            )
            if claimed == 0:
                code.refresh_from_db()
                raise _refusal(code, user, snils=identity.snils) or ActivationError(
                    str(CODE_NOT_FOUND),
                    code="code_not_found",
                )
            code.status, code.activated_by, code.activated_at = IcpCode.Status.ACTIVATED, user, now
            entry = ledger_append(
                doctor=user,
                kind=CreditEntry.Kind.CREDIT,
                source=CreditEntry.Source.CODE,
                credits=event.credits_granted or 0,
                earned_on=event.end_date,
                actor=user,
                code=code,
                event=event,
            )
            audit_log(actor=user, action="code.activate", obj=code, ip=ip, event=event.pk, credits=entry.credits)
    except IntegrityError as exc:
        # the partial unique index: this doctor already holds an activated code of this event
        raise _already_credited(user, event) from exc
    return entry


def _code_with_event(value: str) -> IcpCode | None:
    # the code is unique: nothing for first()'s ORDER BY and LIMIT to do
    return next(iter(IcpCode.objects.select_related("event").filter(code=value)), None)


def _already_credited(user: User, event: Event) -> ActivationError:
    held = IcpCode.objects.filter(activated_by=user, event=event, status=IcpCode.Status.ACTIVATED).first()
    return ActivationError(
        _("You have already received the credits for «%(event)s» with the code %(code)s.")
        % {"event": event.title, "code": held.display if held else "—"},
        code="event_already_credited",
    )


def _refusal(code: IcpCode, user: User, *, snils: str | None) -> ActivationError | None:
    if code.status == IcpCode.Status.REVOKED:
        return ActivationError(
            _("This code was revoked by the event's provider or the portal administrators."), code="code_revoked"
        )
    if code.status == IcpCode.Status.ACTIVATED and code.activated_by_id == user.pk:
        assert code.activated_at is not None  # noqa: S101 - the constraint icp_activated_has_holder
        return ActivationError(
            _("You activated this code on %(time)s; the credits are already in your plan.")
            % {"time": _when(code.activated_at)},
            code="code_already_yours",
            details={"activated_at": code.activated_at.isoformat()},
        )
    if code.holder_snils and code.holder_snils != snils:
        # The provider named the holder by СНИЛС: the code is theirs alone, whoever else holds the paper.
        return ActivationError(
            _(
                "This code was issued to a person with another СНИЛС. "
                "If the certificate is yours, open a dispute: the provider will check it."
            ),
            code="code_issued_to_another",
            details={"dispute": True},
        )
    if code.status == IcpCode.Status.ACTIVATED:
        return ActivationError(
            _("This code has already been activated by another account. If the certificate is yours, open a dispute."),
            code="code_taken",
            details={"dispute": True},
        )
    # An issued code while the doctor already holds another of the same event is refused by the partial
    # unique index at the claim (see code_activate): free on the common path, and exact under concurrency,
    # where a check here would read a moment too early.
    return None


# Issuance ---------------------------------------------------------------------------------------------


def require_event_provider(*, event: Event, user: User) -> None:
    if not Membership.objects.filter(organization_id=event.organization_id, user=user).exists():
        raise PermissionDenied(_("You are not a member of the event's provider."))
    require_verified(event.organization)


class IssuanceRefused(PortalError):
    """A refused issuance that names people: `skipped` are the attendees who already hold a code."""

    def __init__(self, message: str, *, code: str, status: int = 400, skipped: list[dict[str, str]]) -> None:
        super().__init__(message, code=code, status=status)
        self.skipped = skipped


@transaction.atomic
def codes_issue(
    *,
    event: Event,
    actor: User,
    count: int | None = None,
    attendees: Sequence[Attendee] | None = None,
    source_name: str = "",
    reissue: bool = False,
) -> IssuanceBatch:
    """Issue codes for an approved event: one per attendee, or `count` blank ones. Large issuances are
    written by a Celery task after commit and report progress on the batch.

    An attendee who already holds a code of the event (by e-mail or СНИЛС; a revoked code is not held) is
    skipped and listed on the batch, unless `reissue` asks for a new code for them too. Issuances of one
    event wait for each other on the event's row, so twenty uploads of the same list at once issue one code
    per person. If everyone is skipped nothing is written: IssuanceRefused `codes_already_held`."""
    require_event_provider(event=event, user=actor)
    if (count is None) == (attendees is None):
        raise PortalError(_("Give either a number of codes or an attendee list."), code="invalid_request")
    # FOR NO KEY UPDATE: issuances of the event queue here; activations and code inserts (FOR KEY SHARE) do not.
    event = Event.objects.select_for_update(no_key=True).get(pk=event.pk)
    if event.status != Status.APPROVED:
        raise PortalError(_("Codes are issued only for approved events."), code="event_not_approved")
    skipped: list[Attendee] = []
    if attendees is not None and not reissue:
        held_emails, held_snils = _event_holders(event, attendees)
        fresh: list[Attendee] = []
        for attendee in attendees:
            holds = attendee.email in held_emails or (attendee.snils is not None and attendee.snils in held_snils)
            (skipped if holds else fresh).append(attendee)
        attendees = fresh
        if skipped and not attendees:
            raise IssuanceRefused(
                ngettext(
                    "Nothing was issued: %(count)d attendee of the list already has a code of this event "
                    "(%(names)s). "
                    'Tick «issue again» (in the API, "reissue": true) if they need a new certificate.',
                    "Nothing was issued: all %(count)d attendees of the list already have a code of this event "
                    '(%(names)s). Tick «issue again» (in the API, "reissue": true) if they need new certificates.',
                    len(skipped),
                )
                % {"count": len(skipped), "names": _some_emails(skipped)},
                code="codes_already_held",
                status=409,
                skipped=[_person(a) for a in skipped],
            )
    number = len(attendees) if attendees is not None else int(count or 0)
    if number < 1 or number > settings.ICP_MAX_CODES_PER_ISSUE:
        raise PortalError(
            _("Issue between 1 and %(max)d codes at a time.") % {"max": settings.ICP_MAX_CODES_PER_ISSUE},
            code="invalid_count",
        )
    batch = IssuanceBatch.objects.create(
        event=event,
        kind=IssuanceBatch.Kind.ATTENDEES if attendees is not None else IssuanceBatch.Kind.BLANK,
        requested=number,
        source_name=source_name[:255],
        attendees=[[a.full_name, a.email, a.snils or ""] for a in attendees] if attendees is not None else [],
        skipped=[_person(a) for a in skipped],
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="codes.issue",
        obj=event,
        batch=batch.pk,
        count=number,
        kind=batch.kind,
        skipped=len(skipped),
        reissue=reissue,
    )
    if number <= settings.ICP_SYNC_ISSUE_LIMIT:
        batch_fill(batch)
    else:
        enqueue_on_commit(issue_batch, batch_id=batch.pk)
    return batch


def _person(attendee: Attendee) -> dict[str, str]:
    return {"full_name": attendee.full_name, "email": attendee.email}


def _some_emails(people: Sequence[Attendee]) -> str:
    emails = sorted(a.email for a in people)
    return ", ".join(emails[:5]) + ("…" if len(emails) > 5 else "")


def issuance_skipped_message(batch: IssuanceBatch) -> str:
    """What the page says of the attendees a list left out, naming a few of them."""
    emails = sorted(person["email"] for person in batch.skipped)
    return ngettext(
        "%(count)d attendee already had a code of this event and got none (%(names)s). "
        "Upload the list with «issue again» ticked if they need a new certificate.",
        "%(count)d attendees already had a code of this event and got none (%(names)s). "
        "Upload the list with «issue again» ticked if they need new certificates.",
        len(emails),
    ) % {"count": len(emails), "names": ", ".join(emails[:5]) + ("…" if len(emails) > 5 else "")}


# Up to this many attendees the holders are looked up by the list's own e-mails and СНИЛС.
HOLDERS_LOOKUP_LIMIT = 500


def _event_holders(event: Event, attendees: Sequence[Attendee]) -> tuple[set[str], set[str]]:
    """The e-mails and СНИЛС that hold a code of the event, or will once its queued lists are written.

    The lists still being written are read first: a list is marked done only after its last codes are
    committed, so whatever it stops listing the read of the codes below already sees. A short list asks
    for its own people only; a long one reads the event's holders once."""
    emails: set[str] = set()
    snils: set[str] = set()
    pending = IssuanceBatch.objects.filter(
        event=event,
        kind=IssuanceBatch.Kind.ATTENDEES,
        state__in=[IssuanceBatch.State.QUEUED, IssuanceBatch.State.RUNNING],
    ).values_list("attendees", flat=True)
    for people in pending:
        for _name, email, number in people or []:
            emails.add(email)
            if number:
                snils.add(number)
    codes = IcpCode.objects.filter(event=event)
    if len(attendees) <= HOLDERS_LOOKUP_LIMIT:
        wanted = Q(holder_email__in=[a.email for a in attendees])
        if numbers := [a.snils for a in attendees if a.snils]:
            wanted |= Q(holder_snils__in=numbers)
        codes = codes.filter(wanted)
    held = (
        codes.exclude(status=IcpCode.Status.REVOKED)
        .exclude(holder_email="", holder_snils="")
        .values_list("holder_email", "holder_snils")
        .iterator(chunk_size=10_000)
    )
    for email, number in held:
        if email:
            emails.add(email.lower())
        if number:
            snils.add(number)
    return emails, snils


CHUNK = 10_000


def batch_fill(batch: IssuanceBatch) -> IssuanceBatch:
    """Write the batch's codes in bulk chunks (COPY on PostgreSQL), updating its progress as it goes."""
    IssuanceBatch.objects.filter(pk=batch.pk).update(state=IssuanceBatch.State.RUNNING)
    people: list[list[str]] = batch.attendees or []
    remaining = batch.requested - batch.issued
    while remaining > 0:
        size = min(CHUNK, remaining)
        offset = batch.issued
        holders = people[offset : offset + size] if people else [["", "", ""]] * size
        try:
            with transaction.atomic():
                _insert_codes(batch, holders)
        except IntegrityError:
            continue  # a code collided with one already stored (about 1 in 10^11): draw the chunk again
        batch.issued += size
        remaining -= size
        IssuanceBatch.objects.filter(pk=batch.pk).update(issued=batch.issued)
    batch.state = IssuanceBatch.State.DONE
    batch.finished_at = timezone.now()
    mail = bool(batch.attendees)
    batch.attendees = []  # the codes carry the holders now; personal data is not kept twice
    batch.save(update_fields=["state", "finished_at", "attendees", "issued"])
    # Certificates go out once the event has ended: before that the periodic `mail_due_certificates` waits.
    if mail and Event.objects.filter(pk=batch.event_id, ends_at__lte=timezone.now()).exists():
        enqueue_on_commit(mail_certificates, batch_id=batch.pk)
    return batch


def _insert_codes(batch: IssuanceBatch, holders: Sequence[Sequence[str]]) -> None:
    codes = generate_codes(len(holders))
    now = timezone.now()
    if connection.vendor == "postgresql":
        columns = (
            "code, event_id, batch_id, holder_name, holder_email, holder_snils, verify_token, status, "
            "show_holder_name, revoke_reason, created_at"
        )
        # psycopg 3's COPY, through Django's cursor wrapper, inside the surrounding transaction
        sql = f"COPY {IcpCode._meta.db_table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            for code, (name, email, snils) in zip(codes, holders, strict=True):
                copy.write_row(
                    (
                        code,
                        batch.event_id,
                        batch.pk,
                        name,
                        email,
                        snils,
                        new_verify_token(),
                        "issued",
                        False,
                        "",
                        now,
                    )
                )
        return
    IcpCode.objects.bulk_create(
        [
            IcpCode(
                code=code,
                event_id=batch.event_id,
                batch=batch,
                holder_name=name,
                holder_email=email,
                holder_snils=snils,
                created_at=now,
            )
            for code, (name, email, snils) in zip(codes, holders, strict=True)
        ],
        batch_size=2000,
    )


# Revocation and disputes ------------------------------------------------------------------------------


@transaction.atomic
def code_revoke(*, code: IcpCode, actor: User, reason: str) -> IcpCode:
    """The provider revokes an unused code; an administrator any code. Revoking an activated code
    reverses its credit in the ledger and tells the doctor."""
    reason = reason.strip()
    if not reason:
        raise PortalError(_("Give the reason for revoking the code."), code="reason_required")
    code = IcpCode.objects.select_for_update().select_related("event").get(pk=code.pk)
    if not actor.is_staff:
        require_event_provider(event=code.event, user=actor)
        if code.status != IcpCode.Status.ISSUED:
            raise PermissionDenied(
                _("A provider can revoke only a code that has not been activated; ask the portal administrators.")
            )
    if code.status == IcpCode.Status.REVOKED:
        raise PortalError(_("This code is already revoked."), code="code_revoked")
    was_activated = code.status == IcpCode.Status.ACTIVATED
    holder_id = code.activated_by_id
    code.status = IcpCode.Status.REVOKED
    code.revoked_at = timezone.now()
    code.revoked_by = actor
    code.revoke_reason = reason
    code.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    audit_log(actor=actor, action="code.revoke", obj=code, reason=reason, was_activated=was_activated)
    if was_activated:
        credit = CreditEntry.objects.get(code=code, doctor_id=holder_id, kind=CreditEntry.Kind.CREDIT)
        ledger_reverse(credit=credit, doctor=credit.doctor, actor=actor, comment=reason)
    return code


@dataclass
class DisputeInput:
    code_text: str
    event_name: str
    event_date: date
    event_place: str
    message: str = ""
    failure: str = ""


@transaction.atomic
def dispute_open(*, doctor: User, data: DisputeInput) -> Dispute:
    code = None
    with contextlib.suppress(CodeFormatError):
        code = IcpCode.objects.select_related("event").filter(code=parse_code(data.code_text)).first()
    dispute = Dispute.objects.create(
        doctor=doctor,
        code_text=data.code_text.strip()[:40],
        code=code,
        event=code.event if code else None,
        event_name=data.event_name.strip(),
        event_date=data.event_date,
        event_place=data.event_place.strip(),
        failure=data.failure[:40],
        message=data.message.strip(),
    )
    audit_log(actor=doctor, action="dispute.open", obj=dispute, code=data.code_text)
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, actor: User, accepted: bool, resolution: str) -> Dispute:
    """The event's provider or an administrator answers a dispute (a code is moved by revocation and
    reissue, which stay explicit actions of their own)."""
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related("event").get(pk=dispute.pk)
    if not actor.is_staff:
        if dispute.event is None:
            raise PermissionDenied(_("Only the portal administrators can resolve this dispute."))
        require_event_provider(event=dispute.event, user=actor)
    if dispute.state != Dispute.State.OPEN:
        raise PortalError(_("This dispute has already been answered."), code="dispute_closed")
    if not resolution.strip():
        raise PortalError(_("Write the answer the doctor will read."), code="resolution_required")
    dispute.state = Dispute.State.RESOLVED if accepted else Dispute.State.REJECTED
    dispute.resolution = resolution.strip()
    dispute.resolved_by = actor
    dispute.resolved_at = timezone.now()
    dispute.save()
    audit_log(actor=actor, action="dispute.resolve", obj=dispute, accepted=accepted)
    return dispute


def codes_csv(codes: Iterable[IcpCode]) -> str:
    """The provider's export of an event's codes. Names and e-mails are typed by providers and attendees, so
    every text cell goes through `csv_cell`: a name such as `=HYPERLINK(…)` opens as text, not a formula."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "code",
            "status",
            "holder_name",
            "holder_email",
            "activated_at",
            "activated_by_email",
            "email_mismatch",
            "verify_url",
        ]
    )
    for code in codes:
        writer.writerow(
            [
                format_code(code.code),
                code.status,
                csv_cell(code.holder_name),
                csv_cell(code.holder_email),
                code.activated_at.isoformat() if code.activated_at else "",
                csv_cell(code.activated_by_email or ""),
                "1" if code.email_mismatch else "",
                f"{settings.SITE_URL}/verify/{code.verify_token}/",
            ]
        )
    return out.getvalue()


@transaction.atomic
def event_certificates_request(*, event: Event, actor: User) -> EventCertificatesFile:
    """A provider asks for the file with all of an event's certificates to be built (again).

    The request is a row before it is a message: if the broker is down the row stays queued and
    `build_missed_certificates` sends it once the broker is back. The file built before stays downloadable
    meanwhile."""
    if not actor.is_staff:
        require_event_provider(event=event, user=actor)
    record, _created = EventCertificatesFile.objects.select_for_update().get_or_create(event=event)
    if record.state != EventCertificatesFile.State.QUEUED or record.requested_at is None:
        record.state = EventCertificatesFile.State.QUEUED
        record.requested_at = timezone.now()
        record.error = ""
        record.save(update_fields=["state", "requested_at", "error"])
        enqueue_on_commit(build_event_certificates, event_id=event.pk)
    audit_log(actor=actor, action="certificates.request", obj=event)
    return record


@transaction.atomic
def code_set_name_visibility(*, code: IcpCode, user: User, show: bool) -> IcpCode:
    """The doctor who activated a code decides whether the public check page shows their name."""
    if code.activated_by_id != user.pk:
        raise PermissionDenied(_("Only the doctor who activated the code decides this."))
    IcpCode.objects.filter(pk=code.pk).update(show_holder_name=show)
    code.show_holder_name = show
    audit_log(actor=user, action="code.name_visibility", obj=code, show=show)
    return code


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


# Module completions -----------------------------------------------------------------------------------


def _staff_of(module: Module) -> Any:  # a subquery of user ids
    return Membership.objects.filter(organization_id=module.organization_id).values("user")


def _doctor_for(*, module: Module, snils: str, email: str) -> tuple[User, str] | None:
    """The doctor a completion names, and how: by a СНИЛС the Ministry link has confirmed, then by a confirmed
    e-mail. A typed, unconfirmed СНИЛС names nobody (anyone may type anyone's number), and neither does the
    e-mail of a member of the module's own provider (staff do not credit themselves)."""
    if snils:
        profile = (
            DoctorProfile.objects.select_related("user").filter(snils=snils, snils_confirmed_at__isnull=False).first()
        )
        if profile is not None:
            return profile.user, ModuleCompletion.MatchedBy.SNILS
    if email:
        address = (
            EmailAddress.objects.select_related("user")
            .filter(email__iexact=email, verified=True)
            .exclude(user__in=_staff_of(module))
            .first()
        )
        if address is not None:
            return address.user, ModuleCompletion.MatchedBy.EMAIL
    return None


def _credit_completion(completion: ModuleCompletion, doctor: User, matched_by: str) -> CreditEntry:
    completion.doctor = doctor
    completion.credited_at = timezone.now()
    completion.matched_by = matched_by
    completion.save(update_fields=["doctor", "credited_at", "matched_by"])
    module = completion.module
    entry = ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.MODULE_COMPLETION,
        credits=module.credits_granted or 0,
        earned_on=local_date(completion.completed_at),  # the register's (Moscow) day, whoever reported it
        actor=completion.reported_by,
        module=module,
        completion=completion,
    )
    return entry


def completion_report(
    *, module: Module, actor: User, external_id: str, completed_at: datetime, snils: str = "", email: str = ""
) -> tuple[ModuleCompletion, bool]:
    """Record a provider's report of a completed module; (completion, created). The same external id
    again changes nothing. A doctor not registered yet (or whose СНИЛС is not confirmed yet) is credited
    later. What the provider gets back never depends on whether the doctor exists."""
    from accounts.services import snils_lock
    from accounts.snils import normalize_snils

    external_id = external_id.strip()
    snils = normalize_snils(snils)
    email = email.strip().lower()
    if not external_id:
        raise PortalError(_("Give the provider's completion id."), code="external_id_required")
    if not snils and not email:
        raise PortalError(_("Give the doctor's СНИЛС or e-mail."), code="doctor_required")
    if snils:
        try:
            validate_snils(snils)
        except ValidationError as exc:
            raise PortalError(exc.messages[0], code="snils_invalid") from exc
    if completed_at > timezone.now() + timedelta(minutes=5):
        raise PortalError(_("The completion time is in the future."), code="completed_in_future")
    if not within_register_years(local_date(completed_at)):  # the upload and the API alike
        raise PortalError(
            _("Give a date from %(earliest)s to %(latest)s.")
            % {"earliest": f"{EARLIEST_YEAR}-01-01", "latest": f"{LATEST_YEAR}-12-31"},
            code="out_of_range",
        )
    with transaction.atomic():
        require_member_of(organization_id=module.organization_id, user=actor)
        if module.status != Status.APPROVED:
            raise PortalError(_("Completions are reported only for approved modules."), code="module_not_approved")
        existing = ModuleCompletion.objects.filter(module=module, external_id=external_id).first()
        if existing is not None:
            return existing, False
        if snils:
            snils_lock(snils)  # a confirmation of this СНИЛС either sees this report or is seen by it
        try:
            with transaction.atomic():
                completion = ModuleCompletion.objects.create(
                    module=module,
                    external_id=external_id,
                    snils=snils,
                    email=email,
                    completed_at=completed_at,
                    reported_by=actor,
                )
        except IntegrityError:  # the same report arriving twice at the same instant
            return ModuleCompletion.objects.get(module=module, external_id=external_id), False
        audit_log(actor=actor, action="completion.report", obj=completion, module=module.pk)
        found = _doctor_for(module=module, snils=snils, email=email)
        if found is not None:
            doctor, matched_by = found
            if not ModuleCompletion.objects.filter(module=module, doctor=doctor).exists():
                _credit_completion(completion, doctor, matched_by)
        return completion, True


def completions_claim(*, user: User) -> int:
    """Credit the completions held for this doctor: those naming their confirmed СНИЛС, and those naming one
    of their confirmed e-mails (except for modules of the doctor's own organizations). Returns how many."""
    profile = DoctorProfile.objects.filter(user=user).first()
    confirmed_snils = profile.snils if profile is not None and profile.snils_confirmed else None
    emails = [e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)]
    own_organizations = Membership.objects.filter(user=user).values("organization")
    condition = Q(pk__in=[])
    if emails:
        condition |= Q(email__in=emails) & ~Q(module__organization__in=own_organizations)
    if confirmed_snils is not None:
        condition |= Q(snils=confirmed_snils)
    credited = 0
    with transaction.atomic():
        pending = (
            ModuleCompletion.objects.select_for_update().select_related("module").filter(condition, doctor__isnull=True)
        )
        for completion in pending.order_by("completed_at", "pk"):
            if ModuleCompletion.objects.filter(module=completion.module, doctor=user).exists():
                continue  # the module is credited once, whatever the number of reports
            by_snils = confirmed_snils is not None and completion.snils == confirmed_snils
            _credit_completion(
                completion, user, ModuleCompletion.MatchedBy.SNILS if by_snils else ModuleCompletion.MatchedBy.EMAIL
            )
            credited += 1
    return credited


def require_member_of(*, organization_id: int, user: User) -> None:
    if not Membership.objects.filter(organization_id=organization_id, user=user).exists():
        raise PermissionDenied(_("You are not a member of the module's provider."))


def codes_release(*, user: User, snils: str, actor: User | None) -> int:
    """A СНИЛС left `user`'s profile: the codes issued to that СНИЛС which this account activated were never
    its own. Reverse their credits and return the codes to their holder, who may activate them with the
    certificate (the СНИЛС check of code_activate then lets only them). Runs inside the caller's transaction;
    returns how many codes were released."""
    released = 0
    with transaction.atomic(savepoint=False):
        codes = (
            IcpCode.objects.select_for_update()
            .select_related("event")
            .filter(activated_by=user, holder_snils=snils, status=IcpCode.Status.ACTIVATED)
            .order_by("pk")
        )
        for code in codes:
            credit = CreditEntry.objects.filter(
                code=code, doctor=user, kind=CreditEntry.Kind.CREDIT, reversed_by__isnull=True
            ).first()
            IcpCode.objects.filter(pk=code.pk).update(
                status=IcpCode.Status.ISSUED, activated_by=None, activated_at=None, show_holder_name=False
            )
            if credit is not None:
                ledger_reverse(
                    credit=credit,
                    doctor=user,
                    actor=actor,
                    comment=_("The code was issued to a СНИЛС that is no longer in the profile."),
                )
            audit_log(actor=actor, action="code.release", obj=code, doctor=user.pk, reversed=credit is not None)
            released += 1
    return released


def completions_release(*, user: User, snils: str, actor: User | None) -> int:
    """A СНИЛС left `user`'s profile (changed, removed, or confirmed for another account): reverse the module
    credits it brought and let those completions wait for their owner again. A completion that also names
    one of the account's confirmed e-mails keeps its credit, standing on the e-mail now. Runs inside the
    caller's transaction; returns how many credits were reversed."""
    emails = {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}
    own_organizations = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    reversed_count = 0
    with transaction.atomic(savepoint=False):
        brought = (
            ModuleCompletion.objects.select_for_update()
            .select_related("module")
            .filter(doctor=user, snils=snils, matched_by=ModuleCompletion.MatchedBy.SNILS)
            .order_by("pk")
        )
        for completion in brought:
            if completion.email in emails and completion.module.organization_id not in own_organizations:
                completion.matched_by = ModuleCompletion.MatchedBy.EMAIL
                completion.save(update_fields=["matched_by"])
                continue
            credit = CreditEntry.objects.filter(
                completion=completion, doctor=user, kind=CreditEntry.Kind.CREDIT, reversed_by__isnull=True
            ).first()
            if credit is not None:
                ledger_reverse(
                    credit=credit,
                    doctor=user,
                    actor=actor,
                    comment=_("The СНИЛС that identified the doctor left the profile."),
                )
                reversed_count += 1
            completion.doctor = None
            completion.credited_at = None
            completion.matched_by = ""
            completion.save(update_fields=["doctor", "credited_at", "matched_by"])
            audit_log(
                actor=actor, action="completion.release", obj=completion, doctor=user.pk, reversed=credit is not None
            )
    return reversed_count
