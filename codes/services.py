"""What happens to an issued ИКП code: activation, revocation, disputes, the holder's choices and a released СНИЛС.
Issuance is in `issuance.py`, certificates in `certificates.py`.

Activation is the hot path of the evening after a congress. It reads the code once, decides every refusal
without a lock, and claims the code with one conditional UPDATE on the code's own row: PostgreSQL
re-checks `status = 'issued'` after waiting for a concurrent claimant, so exactly one account wins.
A partial unique index (one activated code per doctor and event) refuses a doctor's second code of the
same event at the same instant.

On PostgreSQL an activation that goes through is one statement (`activation_sql`): the profile check, the
code's checks, the claim and the ledger, outbox and audit rows, in one round trip and no BEGIN or COMMIT of
their own. One that does not is decided again, and worded, by the ORM path below, which is also the whole
path on SQLite (`make run`). The page and the API both call `code_activate`."""

import contextlib
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_log
from accounts.models import User
from accounts.selectors import doctor_identity
from accounts.services import require_org_member
from accounts.signals import records_changed
from credits.models import CreditEntry, announce_due
from credits.services import ledger_append, ledger_reverse
from credits.tasks import announce_on_commit
from events.models import Event
from nmo_portal.calendar import moment_text
from nmo_portal.errors import PermissionDenied, PortalError
from nmo_portal.middleware import current_ip
from review.models import Status

from . import activation_sql, ratelimit
from .format import CodeFormatError, format_code, parse_code
from .models import Dispute, IcpCode

# SPEC's wording in Russian (the translation of this message), and its English counterpart.
CODE_NOT_FOUND = gettext_lazy("The code was not activated. Perhaps the code is wrong or it was activated before.")


class ActivationError(PortalError):
    """A refused activation. `details` carries what the page shows beside the message."""

    def __init__(self, message: str, *, code: str, status: int = 400, details: dict[str, object] | None = None) -> None:
        super().__init__(message, code=code, status=status, details=details)


_when = moment_text


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
        if connection.vendor in ONE_STATEMENT_VENDORS:
            entry = _code_activate_in_one_statement(user=user, raw=raw, ip=ip)
            if entry is not None:
                return entry
        # SQLite (`make run`), and every activation the one statement did not make: decided and explained here
        return _code_activate(user=user, raw=raw, ip=ip, attempt=attempt)
    finally:
        attempt.finish()  # gives the slot back unless the attempt failed


# The databases on which an activation that goes through is one statement (codes.activation_sql).
ONE_STATEMENT_VENDORS = frozenset({"postgresql"})


def _code_activate_in_one_statement(*, user: User, raw: str, ip: str | None) -> CreditEntry | None:
    """The activation that goes through, in one statement: the profile check, the code's checks, the claim and
    the ledger, outbox and audit rows. None when it claimed nothing, the refusal then being `_code_activate`'s
    to decide and word (a malformed code is not even tried: the profile's refusal comes first)."""
    try:
        value = parse_code(raw)
    except CodeFormatError:
        return None
    now = timezone.now()

    def claim() -> activation_sql.Claimed | None:
        return activation_sql.claim(
            user_id=user.pk,
            code=value,
            shown=format_code(value),
            ip=ip if ip is not None else current_ip.get(),
            now=now,
            due=announce_due(),
        )

    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # a savepoint, so that a refusal by the index leaves the caller's transaction
                claimed = claim()
        else:
            claimed = claim()  # its own transaction: no BEGIN and COMMIT round trips
    except IntegrityError:
        return None  # this doctor already holds an activated code of the event: `_code_activate` words it
    if claimed is None:
        return None
    records_changed(user.pk)  # the plan's cached version, after commit
    announce_on_commit(claimed.entry_id)
    event = Event.from_db(
        None,
        ["id", "title", "credits_granted", "end_date", "status"],
        [claimed.event_id, claimed.title, claimed.credits, claimed.earned_on, Status.APPROVED],
    )
    code = IcpCode.from_db(
        None,
        ["id", "code", "event_id", "status", "activated_by_id", "activated_at"],
        [claimed.code_id, value, claimed.event_id, IcpCode.Status.ACTIVATED, user.pk, now],
    )
    entry = CreditEntry(
        pk=claimed.entry_id,
        doctor=user,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE,
        source_id=claimed.code_id,
        credit_number=claimed.credit_number,
        activity_kind=Event.kind,
        activity_id=claimed.event_id,
        credits=claimed.credits,
        earned_on=claimed.earned_on,
        actor=user,
        comment="",
        created_at=now,
    )
    entry._state.adding = False
    entry.activity, entry.source_object = event, code  # described as the page and the API show it
    return entry


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
        # With its dash, as the certificate prints it, so the doctor compares it group by group.
        shown = f"{exc.normalized[:4]}-{exc.normalized[4:]}" if len(exc.normalized) > 4 else exc.normalized or "—"
        if exc.reason == "check":
            message = _("There is a typo in the code %(code)s: please check it against the certificate.")
        elif exc.reason == "symbol":
            message = _("The code %(code)s has a symbol that never appears in codes: please check it.")
        else:
            message = _("A code has 12 symbols, as XXXX-XXXXXXXX; we read %(code)s.")
        raise fail(
            message % {"code": shown}, "code_malformed", {"normalized": exc.normalized or "—", "shown": shown}
        ) from exc

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
                source_id=code.pk,
                activity=event,
            )
            entry.activity, entry.source_object = event, code  # described as the page and the API show it
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
    """Codes of an event are issued, revoked and disputed by members of its verified provider."""
    require_org_member(
        user=user,
        organization=event.organization,
        verified=True,
        message=_("You are not a member of the event's provider."),
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
        # the credit standing now: a code released and activated again by the same doctor has a reversed one too
        credit = CreditEntry.objects.get(
            source=CreditEntry.Source.CODE,
            source_id=code.pk,
            doctor_id=holder_id,
            kind=CreditEntry.Kind.CREDIT,
            reversed_by__isnull=True,
        )
        ledger_reverse(credit=credit, doctor=credit.doctor, actor=actor, comment=reason)
    return code


@dataclass
class DisputeInput:
    code_text: str
    # Asked only when the code is not one the portal issued; otherwise taken from the code's event.
    event_name: str = ""
    event_date: date | None = None
    event_place: str = ""
    message: str = ""
    failure: str = ""


def _disputed_code(code_text: str) -> IcpCode | None:
    with contextlib.suppress(CodeFormatError):
        return IcpCode.objects.select_related("event").filter(code=parse_code(code_text)).first()
    return None


def dispute_event(code_text: str) -> Event | None:
    """The event of a disputed code, when the portal issued that code (whoever holds it) for an event in the
    catalogue: an event not approved is not shown, as activation does not show it either."""
    code = _disputed_code(code_text)
    return code.event if code and code.event.status == Status.APPROVED else None


def event_place(event: Event) -> str:
    """Where the event took place, as a dispute records it: the venue, else the online link."""
    return event.venue or event.link or str(event.get_format_display())


@transaction.atomic
def dispute_open(*, doctor: User, data: DisputeInput) -> Dispute:
    code = _disputed_code(data.code_text)
    event = code.event if code else None
    name = data.event_name.strip() or (event.title if event else "")
    day = data.event_date or (event.start_date if event else None)
    place = data.event_place.strip() or (event_place(event) if event else "")
    if not name or day is None or not place:
        raise PortalError(_("Name the event of the certificate: its name, date and place."), code="event_required")
    dispute = Dispute.objects.create(
        doctor=doctor,
        code_text=data.code_text.strip()[:40],
        code=code,
        event=event,
        event_name=name,
        event_date=day,
        event_place=place,
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


@transaction.atomic
def code_set_name_visibility(*, code: IcpCode, user: User, show: bool) -> IcpCode:
    """The doctor who activated a code decides whether the public check page shows their name."""
    if code.activated_by_id != user.pk:
        raise PermissionDenied(_("Only the doctor who activated the code decides this."))
    IcpCode.objects.filter(pk=code.pk).update(show_holder_name=show)
    code.show_holder_name = show
    audit_log(actor=user, action="code.name_visibility", obj=code, show=show)
    return code


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
                source=CreditEntry.Source.CODE,
                source_id=code.pk,
                doctor=user,
                kind=CreditEntry.Kind.CREDIT,
                reversed_by__isnull=True,
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
