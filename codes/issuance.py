"""Issuing ИКП codes for an event: blank codes or one per attendee of a list, at most one per person and event,
written in the request when small and by a Celery task with progress when large."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import User
from events.models import Event
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PortalError
from review.models import Status

from .attendees import Attendee
from .certificates import mail_certificates
from .format import generate_codes
from .models import IcpCode, IssuanceBatch, new_verify_token
from .services import require_event_provider

if TYPE_CHECKING:
    pass


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
            ngettext(
                "Issue between 1 and %(max)d code at a time.",
                "Issue between 1 and %(max)d codes at a time.",
                settings.ICP_MAX_CODES_PER_ISSUE,
            )
            % {"max": settings.ICP_MAX_CODES_PER_ISSUE},
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


@shared_task
def issue_batch(*, batch_id: int) -> None:
    batch = IssuanceBatch.objects.get(pk=batch_id)
    if batch.state in (IssuanceBatch.State.DONE,):
        return  # a redelivered task finds the work done
    try:
        batch_fill(batch)
    except Exception as exc:
        IssuanceBatch.objects.filter(pk=batch_id).update(state=IssuanceBatch.State.FAILED, error=str(exc)[:2000])
        raise
