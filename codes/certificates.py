"""Certificates as files and e-mails: the whole event's PDF in private storage (built by a task, rebuilt when the
codes change), and each holder's certificate mailed once the event has ended. The pages are drawn by
`certificate_pdf`."""

import logging
import secrets
import tempfile
import time
from datetime import timedelta
from typing import Final

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import User
from events.models import Event
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.mail import recipient_languages, templated_message

from .certificate_pdf import (
    PDF_MEDIA_TYPE,
    certificate_filename,
    certificate_pdf,
    event_dates,
    write_certificates,
)
from .format import format_code
from .models import EventCertificatesFile, IcpCode, IssuanceBatch
from .services import require_event_provider


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


logger = logging.getLogger(__name__)

CHUNK_SIZE: Final = 500
# Certificates e-mailed under one lock, and attendee lists taken by one run of the periodic mailing.
MAIL_CHUNK_SIZE: Final = 100
MAIL_SWEEP_BATCHES: Final = 50
# On SQLite (`make run`) a chunk's transaction locks the whole database while its certificates are drawn and sent
# (seconds), and the next chunk takes the lock again at once: a web request waiting to write would never get in
# and fail with «database is locked». A pause longer than SQLite's longest busy-wait sleep (100 ms) lets it in.
SQLITE_PAUSE_BETWEEN_CHUNKS: Final = 0.15


def private_storage() -> Storage:
    """Where generated files live: STORAGES["private"], never served under MEDIA_URL (README: "Files")."""
    return storages["private"]


def codes_fingerprint(event_id: int) -> tuple[int, int]:
    """What a whole-event file is built from: the number of the event's codes not revoked, and its highest code
    id. Issuing raises the id and revoking lowers the number, so any change to what the file prints changes it."""
    totals = IcpCode.objects.filter(event_id=event_id).aggregate(
        count=Count("id", filter=~Q(status=IcpCode.Status.REVOKED)), last=Max("id")
    )
    return totals["count"] or 0, totals["last"] or 0


def certificates_file_is_stale(record: EventCertificatesFile) -> bool:
    """Whether a code was issued or revoked since the file was built."""
    return bool(record.file_name) and codes_fingerprint(record.event_id) != (record.codes_count, record.last_code_id)


@shared_task
def build_event_certificates(*, event_id: int) -> str:
    """Write every certificate of an event (revoked codes left out) to one PDF in the private storage under a
    name with a random part; record it and delete the file it replaces. Return the new name.

    The fingerprint of the codes is read before the codes themselves: a code issued or revoked during the build
    leaves the file marked stale rather than silently out of date.
    """
    EventCertificatesFile.objects.filter(event_id=event_id).update(
        state=EventCertificatesFile.State.BUILDING, started_at=timezone.now()
    )
    try:
        started = timezone.now()
        count, last = codes_fingerprint(event_id)
        codes = (
            IcpCode.objects.filter(event_id=event_id)
            .exclude(status=IcpCode.Status.REVOKED)
            .select_related("event__organization")
            .order_by("id")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        storage = private_storage()
        with tempfile.TemporaryFile() as target:
            write_certificates(codes, target)
            target.seek(0)
            name = storage.save(f"certificates/event-{event_id}-{secrets.token_urlsafe(18)}.pdf", File(target))
    except Exception as exc:
        EventCertificatesFile.objects.filter(event_id=event_id).update(
            state=EventCertificatesFile.State.FAILED, error=str(exc)[:2000]
        )
        raise
    with transaction.atomic():
        record, _created = EventCertificatesFile.objects.select_for_update().get_or_create(event_id=event_id)
        replaced = record.file_name
        record.file_name = name
        record.state = EventCertificatesFile.State.READY
        record.built_at = started
        record.codes_count, record.last_code_id = count, last
        record.error = ""
        record.save()
    if replaced and replaced != name:
        storage.delete(replaced)
    return name


@shared_task
def build_missed_certificates() -> int:
    """Periodic (beat): queue again the builds asked for that no worker started (the broker was down when the
    provider asked) or that a lost worker left half done. Returns how many were queued."""
    now = timezone.now()
    queued, building = EventCertificatesFile.State.QUEUED, EventCertificatesFile.State.BUILDING
    grace = timedelta(seconds=settings.CERTIFICATES_BUILD_GRACE_SECONDS)
    timeout = timedelta(seconds=settings.CERTIFICATES_BUILD_TIMEOUT_SECONDS)
    missed = EventCertificatesFile.objects.filter(
        Q(state=queued, requested_at__lte=now - grace) | Q(state=building, started_at__lte=now - timeout)
    )
    sent = 0
    for record in missed:
        # moving requested_at on keeps the next sweep from queuing it again while this message waits
        taken = EventCertificatesFile.objects.filter(pk=record.pk, state=record.state, requested_at=record.requested_at)
        if taken.update(state=queued, requested_at=now):
            build_event_certificates.delay(event_id=record.event_id)
            sent += 1
    return sent


@shared_task
def mail_certificates(*, batch_id: int) -> int:
    """E-mail every holder of the batch who has an address their certificate as a PDF, once the event has ended;
    return how many were sent.

    Codes without an e-mail (blank codes) and revoked codes get nothing. All messages go over one connection.
    Each certificate is sent once: a chunk of codes is locked while it is sent (a concurrent run skips it) and
    each sent one is marked, so a retried or redelivered task mails only those not yet sent. The batch is
    marked mailed when nothing is left to send.
    """
    batch = IssuanceBatch.objects.select_related("event").get(pk=batch_id)
    if batch.event.ends_at > timezone.now():
        return 0  # too early: `mail_due_certificates` sends them when the event has ended
    unsent = (
        IcpCode.objects.filter(batch_id=batch_id, mailed_at__isnull=True)
        .exclude(holder_email="")
        .exclude(status=IcpCode.Status.REVOKED)
    )
    failed: set[int] = set()
    sent = 0
    with get_connection() as connection:
        while True:
            with transaction.atomic():
                chunk = list(
                    unsent.exclude(pk__in=failed)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("event__organization")
                    .order_by("id")[:MAIL_CHUNK_SIZE]
                )
                if not chunk:
                    break
                languages = recipient_languages({code.holder_email for code in chunk})
                for code in chunk:
                    language = languages.get(code.holder_email.lower())
                    try:
                        delivered = _certificate_message(code, connection=connection, language=language).send()
                    except Exception:
                        logger.exception("Could not e-mail the certificate of code %s; the next run will", code.pk)
                        delivered = 0
                    if delivered:
                        IcpCode.objects.filter(pk=code.pk).update(mailed_at=timezone.now())
                        sent += 1
                    else:
                        failed.add(code.pk)
            if db_connection.vendor == "sqlite":
                time.sleep(SQLITE_PAUSE_BETWEEN_CHUNKS)
    if not unsent.exists():
        IssuanceBatch.objects.filter(pk=batch_id, mailed_at__isnull=True).update(mailed_at=timezone.now())
    return sent


@shared_task
def mail_due_certificates() -> int:
    """Periodic (beat): e-mail the certificates of attendee lists whose event has ended, reading the lists
    still to be mailed by their partial index, a bounded number per run. Returns how many were sent."""
    due = list(
        IssuanceBatch.objects.filter(
            kind=IssuanceBatch.Kind.ATTENDEES,
            mailed_at__isnull=True,
            state__in=[IssuanceBatch.State.DONE, IssuanceBatch.State.FAILED],
            event__ends_at__lte=timezone.now(),
        )
        .order_by("id")
        .values_list("pk", flat=True)[:MAIL_SWEEP_BATCHES]
    )
    return sum(mail_certificates(batch_id=batch_id) for batch_id in due)


def _certificate_message(code: IcpCode, *, connection: BaseEmailBackend, language: str | None) -> EmailMessage:
    event = code.event
    context = {
        "holder_name": code.holder_name.strip(),
        "event": event,
        "dates": event_dates(event),
        "credits": event.credits_granted,
        "code_display": format_code(code.code),
        "activate_url": f"{settings.SITE_URL}/me/credits/",
        "verify_url": code.verify_url(),
    }
    message = templated_message(
        to=[code.holder_email],
        template="codes/email/certificate",
        context=context,
        language=language,
        connection=connection,
    )
    message.attach(certificate_filename(code), certificate_pdf([code]), PDF_MEDIA_TYPE)
    return message
