"""Linking a doctor's Ministry account, delivering ledger records through the outbox, and reading back the
records the Ministry holds for the doctor (for the accreditation portfolio).

Every ledger row has an outbox row, written by the ledger in the row's own transaction (`credits.OutboxRecord`).
Delivery is a Celery task per row after commit (`push_credit_record`, which the ledger's
`credits.tasks.announce_credit_entry` queues by name), retried with backoff and jitter; a periodic task re-sends
whatever is still due, so records written while the broker or the Ministry was down arrive once both are back.
The idempotency key of each row keeps the Ministry free of duplicates whatever is retried. What the Ministry
holds is read into `HeldRecord` rows (`held_records_refresh`) after a link and when the doctor asks; the same
keys tell the records the portal sent from those the Ministry got elsewhere. The tasks are defined here, beside
the work they drive, and named in `tasks.py` for the workers.
"""

import logging
import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from celery import current_app, shared_task
from celery.app.task import Task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import DoctorProfile, User
from accounts.services import snils_confirm, snils_unconfirm
from accounts.signals import records_changed
from credits.models import CreditEntry, OutboxRecord
from credits.selectors import described
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PortalError

from . import client
from .models import HeldRecord, MinistryLink

logger = logging.getLogger(__name__)

KIND_BY_SOURCE = {"code": "educationElementZet", "module_completion": "iomZet", "adjustment": "otherZet"}


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped at an hour."""
    ceiling = min(settings.MINISTRY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0)), 3600.0)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not security


@transaction.atomic
def link_request(*, doctor: User, login: str) -> MinistryLink:
    """The doctor asks once to link their Ministry account; relinking is for administrators."""
    login = login.strip()
    if not login:
        raise PortalError(_("Enter your login at the Ministry portal."), code="login_required")
    if not DoctorProfile.objects.filter(user=doctor, snils__isnull=False).exists():
        raise PortalError(
            _("Enter your СНИЛС in the profile first: the Ministry knows you by it."), code="snils_required"
        )
    existing = MinistryLink.objects.select_for_update().filter(doctor=doctor).first()
    if existing is not None and existing.state != MinistryLink.State.FAILED:
        raise PortalError(
            _("Your account is already linked or being linked; ask the administrators to relink it."),
            code="already_linked",
        )
    if existing is not None:
        existing.delete()  # a failed attempt may be retried by the doctor
    link = MinistryLink.objects.create(doctor=doctor, login=login)
    records_changed(doctor.pk)  # the cabinet shows the link's state
    audit_log(actor=doctor, action="ministry.link_request", obj=link, login=login)
    enqueue_on_commit(link_ministry_account, link_id=link.pk)
    return link


def link_perform(link_id: int) -> MinistryLink:
    """Ask the Ministry to link; the cabinet is refreshed after the outcome is saved, whatever it is."""
    try:
        return _link_perform(link_id)
    finally:
        doctor_id = MinistryLink.objects.filter(pk=link_id).values_list("doctor_id", flat=True).first()
        if doctor_id is not None:
            records_changed(doctor_id)


def _link_perform(link_id: int) -> MinistryLink:
    """Ask the Ministry to link; on success every waiting record of the doctor is sent."""
    link = MinistryLink.objects.select_related("doctor__doctor_profile").get(pk=link_id)
    if link.state == MinistryLink.State.LINKED:
        return link
    snils = link.doctor.doctor_profile.snils
    if snils is None:  # taken away since the request: confirmed for another account, or removed
        link.state = MinistryLink.State.FAILED
        link.reason = _("Your profile has no СНИЛС any more: enter it and link the account again.")
        link.save()
        return link
    answer = client.call("POST", "accounts/link", {"snils": snils, "login": link.login})
    link.attempts += 1
    if answer.ok:
        try:
            with transaction.atomic():
                # The Ministry knows this person by the СНИЛС and login: the number is confirmed as theirs,
                # and taken from any other account that typed it.
                snils_confirm(user=link.doctor, snils=snils)
                link.state = MinistryLink.State.LINKED
                link.specialist_id = str(answer.body.get("specialist_id", ""))
                link.cycles = answer.body.get("cycles", [])
                link.linked_at = timezone.now()
                # Only the demo's mock says so (ministry_mock.services.registers_newcomers); the doctor is told,
                # as the real Ministry portal would have refused an unknown СНИЛС.
                link.reason = (
                    _(
                        "Demo: the Ministry portal mock did not know your СНИЛС and registered you as a new "
                        "specialist. The real Ministry portal links only specialists registered there."
                    )
                    if answer.body.get("registered") is True
                    else ""
                )
                link.save()
        except PortalError as refused:
            link.state = MinistryLink.State.FAILED
            link.reason = str(refused.message)
            link.save()
            return link
        waiting = list(
            OutboxRecord.objects.filter(doctor_id=link.doctor_id, state=OutboxRecord.State.PENDING).values_list(
                "pk", flat=True
            )
        )
        for start in range(0, len(waiting), 100):
            push_credit_records.delay(outbox_ids=waiting[start : start + 100])
        _held_records_queue(link.doctor_id)  # what the Ministry already holds, for the portfolio
        return link
    if answer.transient and link.attempts < settings.MINISTRY_MAX_ATTEMPTS:
        link.reason = _("The Ministry portal did not answer; we keep trying.")
        link.save()
        raise TransientError(answer.error_message or str(answer.status))
    link.state = MinistryLink.State.FAILED
    if answer.error_code == "specialist_not_found":
        link.reason = _(
            "The Ministry portal has no specialist with your СНИЛС. Check the СНИЛС in your profile and that you "
            "are registered at edu.rosminzdrav.ru."
        )
    elif answer.error_code == "login_mismatch":
        link.reason = _("The login does not match the one the Ministry portal has for your СНИЛС.")
    elif answer.transient:
        link.reason = _("The Ministry portal is unavailable; try again later.")
    else:
        link.reason = answer.error_message or _("The Ministry portal refused the link.")
    link.save()
    return link


class TransientError(Exception):
    """The Ministry did not take the request now; try again later."""


def _claim(ids: list[int]) -> list[OutboxRecord]:
    """Take the due pending rows among `ids` for this sender by moving their next attempt past a lease, in
    a short transaction (SKIP LOCKED): a retry and the periodic re-send never send the same row at the same
    time, and no lock or transaction is held while the Ministry answers. The idempotency key covers a
    sender that dies after sending and before saving."""
    now = timezone.now()
    lease = timedelta(seconds=settings.MINISTRY_TIMEOUT_SECONDS * 2 * max(len(ids), 1) + 60)
    with transaction.atomic():
        claimed = list(
            OutboxRecord.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, state=OutboxRecord.State.PENDING, next_attempt_at__lte=now)
            .values_list("pk", flat=True)
        )
        OutboxRecord.objects.filter(pk__in=claimed).update(next_attempt_at=now + lease)
    records = list(
        OutboxRecord.objects.select_related("entry__specialty", "doctor__doctor_profile")
        .prefetch_related("doctor__doctor_profile__specialties")
        .filter(pk__in=claimed)
        .order_by("pk")
    )
    described([record.entry for record in records], specialties=True)
    return records


def _deliver(record: OutboxRecord, session: client.Session) -> None:
    """Send one held row and record the outcome on it (the caller saves)."""
    answer = session.call("POST", "records", payload(record), headers={"Idempotency-Key": str(record.idempotency_key)})
    record.attempts += 1
    if answer.ok:
        record.state = OutboxRecord.State.DELIVERED
        record.delivered_at = timezone.now()
        record.ministry_record_id = str(answer.body.get("id", ""))
        record.last_error = ""
    elif answer.transient and record.attempts < settings.MINISTRY_MAX_ATTEMPTS:
        record.next_attempt_at = timezone.now() + backoff(record.attempts)
        record.last_error = f"{answer.status} {answer.error_code} {answer.error_message}".strip()
    else:
        record.state = OutboxRecord.State.FAILED
        record.last_error = f"{answer.status} {answer.error_code} {answer.error_message}".strip()
        logger.warning("Ministry record %s failed for good: %s", record.pk, record.last_error)


_SAVED = ["state", "attempts", "next_attempt_at", "last_error", "ministry_record_id", "delivered_at"]


def push_many(outbox_ids: list[int]) -> list[OutboxRecord]:
    """Deliver a batch over one kept-open connection and save the outcomes in one statement. Rows of
    doctors who have not linked their account yet wait untouched."""
    records = _claim(outbox_ids)
    linked = set(
        MinistryLink.objects.filter(
            doctor_id__in={r.doctor_id for r in records}, state=MinistryLink.State.LINKED
        ).values_list("doctor_id", flat=True)
    )
    with client.Session() as session:
        for record in records:
            if record.doctor_id in linked:
                _deliver(record, session)
            else:
                record.next_attempt_at = timezone.now()  # released: it waits for the doctor to link
    if records:
        OutboxRecord.objects.bulk_update(records, _SAVED)
        records_changed(*{record.doctor_id for record in records})  # the cabinet shows each record's state
    return records


def push_perform(outbox_id: int) -> OutboxRecord | None:
    """Deliver one record (right after the activation that wrote it). A record of a doctor whose account is not
    linked is left as it is, unclaimed: linking sends it."""
    doctor = OutboxRecord.objects.filter(pk=outbox_id).values("doctor_id")
    linked = MinistryLink.objects.filter(state=MinistryLink.State.LINKED, doctor_id__in=doctor)
    if not linked.exists():
        return None
    records = push_many([outbox_id])
    return records[0] if records else None


def payload(record: OutboxRecord) -> dict[str, object]:
    entry = record.entry
    profile = record.doctor.doctor_profile
    if (entry.activity_kind and entry.activity is None) or (entry.source_id and entry.source_object is None):
        described([entry], specialties=True)  # _claim describes a batch at once; a lone record here
    activity = entry.activity
    code = entry.source_object if entry.source == CreditEntry.Source.CODE else None
    source_ref = code.code if code is not None else f"{entry.source}:{entry.pk}"
    profile_specialties = {s.code for s in profile.specialties.all()}
    codes = [s.code for s in activity.specialties.all()] if activity else []
    if not codes and entry.specialty is not None:  # an adjustment that names no activity
        codes = [entry.specialty.code]
    specialty = next((c for c in codes if c in profile_specialties), codes[0] if codes else "")
    return {
        "snils": profile.snils,
        "specialty_code": specialty,
        "kind": KIND_BY_SOURCE.get(entry.source, "otherZet"),
        "zet": entry.credits,
        "title": activity.title if activity else entry.comment,
        "earned_on": entry.earned_on.isoformat(),
        "source_ref": source_ref,
    }


# The periodic re-send queues at most RESEND_MAX records per run (RESEND_MAX / BATCH messages), the longest due
# first. Reading a due record reads its row and its doctor's link, a page each on a cold cache: 2,000 took 1.05 s at
# national scale, 500 a quarter of that. A run that read a full batch queues its continuation, RESEND_PAUSE_SECONDS
# later, for the records due after its last one; beat's next run starts again from the longest due.
RESEND_MAX = 500
RESEND_PAUSE_SECONDS = 5


def due_records(limit: int = RESEND_MAX, after: datetime | None = None) -> list[tuple[int, datetime]]:
    """(id, next attempt) of pending records of linked doctors whose next attempt is due (and later than `after`),
    the longest due first: read in the order of the partial index of pending rows by next attempt
    (`outbox_due_idx`), each row's doctor looked up in the links by its index, and no further than `limit` rows."""
    linked = MinistryLink.objects.filter(doctor_id=OuterRef("doctor_id"), state=MinistryLink.State.LINKED)
    due = OutboxRecord.objects.filter(state=OutboxRecord.State.PENDING, next_attempt_at__lte=timezone.now())
    if after is not None:
        due = due.filter(next_attempt_at__gt=after)
    due = due.filter(Exists(linked)).order_by("next_attempt_at")
    return list(due.values_list("pk", "next_attempt_at")[:limit])


@transaction.atomic
def outbox_retry(*, record: OutboxRecord, actor: User) -> OutboxRecord:
    """An administrator sends a failed record again."""
    record = OutboxRecord.objects.select_for_update().get(pk=record.pk)
    if record.state != OutboxRecord.State.FAILED:
        return record
    record.state = OutboxRecord.State.PENDING
    record.attempts = 0
    record.next_attempt_at = timezone.now()
    record.save()
    records_changed(record.doctor_id)
    audit_log(actor=actor, action="ministry.retry", obj=record)
    enqueue_on_commit(push_credit_record, outbox_id=record.pk)
    return record


@transaction.atomic
def link_reset(*, link: MinistryLink, actor: User) -> None:
    """Administrators allow a doctor to link again (another login, a corrected СНИЛС). The СНИЛС is the
    doctor's word again until the next link confirms it, so the doctor may correct it."""
    audit_log(actor=actor, action="ministry.relink", obj=link, login=link.login)
    snils_unconfirm(user=link.doctor, actor=actor)
    # What was read under this link may be another person's (a mistyped СНИЛС): the next link reads them again.
    HeldRecord.objects.filter(doctor_id=link.doctor_id).delete()
    link.delete()
    records_changed(link.doctor_id)


# The records the Ministry holds -------------------------------------------------------------------------------

# A record as the Ministry lists it takes well under this in JSON, even with every letter of a long title escaped;
# the answer is refused unread beyond MINISTRY_HELD_RECORDS_MAX records of this size.
HELD_RECORD_MAX_BYTES = 4096
HELD_HOURS_BOUND = 1000  # ЗЕТ of one record, either way (a reversal is negative), as the Ministry bounds them
_HELD_TEXT = {
    "title": HeldRecord._meta.get_field("title").max_length or 500,
    "specialty_code": HeldRecord._meta.get_field("specialty_code").max_length or 16,
    "source_ref": HeldRecord._meta.get_field("source_ref").max_length or 200,
}
_HELD_KEY_MAX = HeldRecord._meta.get_field("idempotency_key").max_length or 200


class HeldRecordsRefused(Exception):
    """The Ministry's answer cannot be taken as it is (too long, not a list of records, an unknown СНИЛС): the
    last reading is kept, and asking again at once would change nothing."""


def _held_refresh_key(doctor_id: int) -> str:
    return f"ministry:held-records-refresh:{doctor_id}"


def _held_records_queue(doctor_id: int) -> None:
    """Read the doctor's records after commit, and count it as the doctor's request of the next few minutes."""
    cache.set(_held_refresh_key(doctor_id), 1, settings.MINISTRY_HELD_REFRESH_MINUTES * 60)
    enqueue_on_commit(refresh_held_records, doctor_id=doctor_id)


@transaction.atomic
def held_records_request(*, doctor: User) -> None:
    """The doctor asks to read again what the Ministry holds for them; once in MINISTRY_HELD_REFRESH_MINUTES."""
    link = MinistryLink.objects.filter(doctor=doctor, state=MinistryLink.State.LINKED).first()
    if link is None:
        raise PortalError(
            _("Link your account at the Ministry portal first: its records are read through the link."),
            code="ministry_not_linked",
        )
    # cache.add is atomic: of two requests at once, one queues the reading. A cache that cannot be reached
    # refuses too, rather than letting every click through to the Ministry.
    if not cache.add(_held_refresh_key(doctor.pk), 1, settings.MINISTRY_HELD_REFRESH_MINUTES * 60):
        minutes = settings.MINISTRY_HELD_REFRESH_MINUTES
        raise PortalError(
            ngettext(
                "Your records were asked for a few minutes ago; try again in %(minutes)d minute.",
                "Your records were asked for a few minutes ago; try again in %(minutes)d minutes.",
                minutes,
            )
            % {"minutes": minutes},
            code="ministry_refresh_too_soon",
            status=429,
        )
    audit_log(actor=doctor, action="ministry.held_records_request", obj=link)
    enqueue_on_commit(refresh_held_records, doctor_id=doctor.pk)


def _text(value: object, limit: int) -> str | None:
    """A string field of the answer, clipped to the column; None when it is not a string."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "").strip()[:limit]


def _held_record(doctor_id: int, item: object, read_at: datetime) -> HeldRecord | None:
    """One record of the answer as a row, or None when it cannot be one: no key or one too long to be matched
    exactly, an unknown kind, hours that are not a bounded whole number, no date. Texts are clipped to fit."""
    if not isinstance(item, Mapping):
        return None
    key = item.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key.strip()) > _HELD_KEY_MAX or "\x00" in key:
        return None
    kind = item.get("kind")
    hours = item.get("zet")
    if kind not in HeldRecord.Kind.values:
        return None
    if not isinstance(hours, int) or isinstance(hours, bool) or abs(hours) > HELD_HOURS_BOUND:
        return None
    raw_date = item.get("earned_on")
    try:
        earned_on: date | None = parse_date(raw_date) if isinstance(raw_date, str) and len(raw_date) <= 10 else None
    except ValueError:
        earned_on = None
    if earned_on is None:
        return None
    return HeldRecord(
        doctor_id=doctor_id,
        idempotency_key=key.strip(),
        kind=kind,
        hours=hours,
        title=_text(item.get("title"), _HELD_TEXT["title"]) or "",
        earned_on=earned_on,
        specialty_code=_text(item.get("specialty_code"), _HELD_TEXT["specialty_code"]) or "",
        source_ref=_text(item.get("source_ref"), _HELD_TEXT["source_ref"]) or "",
        fetched_at=read_at,
    )


def held_records_refresh(doctor_id: int) -> int | None:
    """Read what the Ministry holds for a linked doctor and make it the doctor's HeldRecord rows, in one
    transaction: rows of keys the Ministry still lists are brought up to date, the others deleted. Returns how
    many rows the doctor has now, or None for a doctor not linked (nothing is asked then).

    Raises TransientError when the Ministry did not answer now (the rows stay as they were; try again later),
    and HeldRecordsRefused when its answer cannot be taken."""
    link = MinistryLink.objects.filter(doctor_id=doctor_id, state=MinistryLink.State.LINKED).first()
    snils = DoctorProfile.objects.filter(user_id=doctor_id).values_list("snils", flat=True).first()
    if link is None or not snils:
        return None
    limit = settings.MINISTRY_HELD_RECORDS_MAX
    answer = client.call("GET", f"specialists/{snils}/records", max_bytes=(limit + 16) * HELD_RECORD_MAX_BYTES)
    if answer.oversized:
        raise HeldRecordsRefused(f"the answer is longer than {limit} records can be")
    if answer.transient:
        raise TransientError(answer.error_message or str(answer.status))
    if not answer.ok:
        raise HeldRecordsRefused(f"{answer.status} {answer.error_code} {answer.error_message}".strip())
    items = answer.body.get("records")
    if not isinstance(items, list):
        raise HeldRecordsRefused("the answer holds no list of records")
    if len(items) > limit:
        raise HeldRecordsRefused(f"{len(items)} records, more than MINISTRY_HELD_RECORDS_MAX ({limit})")
    read_at = timezone.now()
    rows: dict[str, HeldRecord] = {}
    for item in items:
        row = _held_record(doctor_id, item, read_at)
        if row is not None:
            rows.setdefault(row.idempotency_key, row)  # a key listed twice is one record
    skipped = len(items) - len(rows)
    if skipped:
        logger.warning("Ministry records of doctor %s: %s could not be read and were left out", doctor_id, skipped)
    with transaction.atomic():
        # The link's row orders two readings of one doctor; a link reset meanwhile means nothing is written.
        link = MinistryLink.objects.select_for_update().filter(pk=link.pk, state=MinistryLink.State.LINKED).first()
        if link is None:
            return None
        HeldRecord.objects.bulk_create(
            list(rows.values()),
            batch_size=500,
            update_conflicts=True,
            unique_fields=["doctor", "idempotency_key"],
            update_fields=["kind", "hours", "title", "earned_on", "specialty_code", "source_ref", "fetched_at"],
        )
        # Every row the Ministry still lists now carries this reading's time; the others are no longer there.
        HeldRecord.objects.filter(doctor_id=doctor_id).exclude(fetched_at=read_at).delete()
        link.records_read_at = read_at
        link.save(update_fields=["records_read_at"])
        audit_log(actor=None, action="ministry.held_records_refresh", obj=link, records=len(rows), skipped=skipped)
        records_changed(doctor_id)
    return len(rows)


@shared_task(bind=True, max_retries=None, acks_late=True)
def link_ministry_account(self: Task, *, link_id: int) -> str:  # type: ignore[type-arg]
    try:
        return link_perform(link_id).state
    except TransientError as exc:
        link_attempts = MinistryLink.objects.get(pk=link_id).attempts
        raise self.retry(countdown=backoff(link_attempts).total_seconds(), exc=exc) from exc


@shared_task(name="ministry_sync.push_credit_record", acks_late=True)
def push_credit_record(*, outbox_id: int) -> str | None:
    """Deliver one outbox row; on a transient failure schedule the next try (the periodic task also would).
    Queued by name by the ledger for every new row: a row of a doctor who has not linked the Ministry account
    waits, untouched, for `link_perform`."""
    record = push_perform(outbox_id)
    if record is None:
        return None
    if record.state == OutboxRecord.State.PENDING and record.attempts:
        push_credit_record.apply_async(kwargs={"outbox_id": outbox_id}, eta=record.next_attempt_at)
    return str(record.state)


BATCH = 100


@shared_task(acks_late=True)
def push_credit_records(*, outbox_ids: list[int]) -> int:
    """Deliver a batch over one connection; what failed for now is tried again when its backoff is over."""
    records = push_many(outbox_ids)
    waiting = [r for r in records if r.state == OutboxRecord.State.PENDING and r.attempts]
    if waiting:
        eta = min(r.next_attempt_at for r in waiting)
        push_credit_records.apply_async(kwargs={"outbox_ids": [r.pk for r in waiting]}, eta=eta)
    return sum(1 for r in records if r.state == OutboxRecord.State.DELIVERED)


@shared_task
def resend_undelivered(after: str | None = None) -> int:
    """Periodic (beat): re-send the pending records that are due, RESEND_MAX at most, in messages of BATCH. A run
    that read a full batch queues the next for the records due after its last one (`after`, in ISO format: one due
    at that very instant and not read waits for beat's next run); in-process (no broker) beat's next run takes the
    rest. The records are taken not here but by the delivery (`push_many`), which sends each one once whichever
    messages name it. Returns how many were queued."""
    due = due_records(RESEND_MAX, after=datetime.fromisoformat(after) if after else None)
    ids = [pk for pk, _at in due]
    for start in range(0, len(ids), BATCH):
        push_credit_records.delay(outbox_ids=ids[start : start + BATCH])
    if len(due) >= RESEND_MAX and not current_app.conf.task_always_eager:
        resend_undelivered.apply_async(kwargs={"after": due[-1][1].isoformat()}, countdown=RESEND_PAUSE_SECONDS)
    return len(due)


@shared_task(bind=True, max_retries=None, acks_late=True)
def refresh_held_records(self: Task, *, doctor_id: int) -> int | None:  # type: ignore[type-arg]
    """Read the records the Ministry holds for the doctor; tried again with backoff while it does not answer,
    MINISTRY_MAX_ATTEMPTS times in all. Queued by `held_records_request` and after a link succeeds."""
    try:
        return held_records_refresh(doctor_id)
    except TransientError as exc:
        attempts = self.request.retries + 1
        if attempts >= settings.MINISTRY_MAX_ATTEMPTS:
            logger.warning("Ministry records of doctor %s not read after %s attempts: %s", doctor_id, attempts, exc)
            return None
        raise self.retry(countdown=backoff(attempts).total_seconds(), exc=exc) from exc
    except HeldRecordsRefused as exc:
        logger.warning("Ministry records of doctor %s not taken: %s", doctor_id, exc)
        return None
