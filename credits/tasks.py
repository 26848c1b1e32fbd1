import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from nmo_portal.mail import send_templated_mail

# Tasks defined beside the code they drive; imported here so that workers register them.
from .certificates import build_event_certificates, mail_certificates  # noqa: F401

logger = logging.getLogger(__name__)


@shared_task
def issue_batch(*, batch_id: int) -> None:
    from .models import IssuanceBatch
    from .services import batch_fill

    batch = IssuanceBatch.objects.get(pk=batch_id)
    if batch.state in (IssuanceBatch.State.DONE,):
        return  # a redelivered task finds the work done
    try:
        batch_fill(batch)
    except Exception as exc:
        IssuanceBatch.objects.filter(pk=batch_id).update(state=IssuanceBatch.State.FAILED, error=str(exc)[:2000])
        raise


# The e-mail a doctor gets for each kind of ledger row; an administrator's adjustment is explained by them.
EMAIL_TEMPLATE = {"credit": "credits/email/activated", "reversal": "credits/email/reversed"}


@shared_task
def announce_credit_entry(*, entry_id: int) -> None:
    """What follows a committed ledger row, as one message from the request that wrote it: its record goes
    to the Ministry when the doctor's account is linked (otherwise linking sends it later), and the doctor
    is told by e-mail, once. A failure to queue the record does not cost the e-mail: the record is safe in
    the outbox, and the periodic re-send takes it. Rows this task never saw (the broker was down) are found
    by `announce_missed`."""
    from ministry_sync.models import OutboxRecord
    from ministry_sync.services import outbox_dispatch

    from .models import CreditEntry

    entry = CreditEntry.objects.select_related("doctor", "event", "code", "module__organization").get(pk=entry_id)
    try:
        outbox_dispatch(entry)
    except Exception:
        logger.exception("Could not queue the Ministry record of ledger entry %s; the periodic re-send will", entry_id)
    # Claimed before sending, so that a message delivered twice (a worker lost before its ack) mails once;
    # released if sending fails, so that the sweep tries again.
    unannounced = OutboxRecord.objects.filter(entry_id=entry_id, announced_at=None)
    if not unannounced.update(announced_at=timezone.now()):
        return
    template = EMAIL_TEMPLATE.get(entry.kind)
    if template is None:
        return
    try:
        send_templated_mail(
            to=[entry.doctor.email],
            template=template,
            context={"entry": entry, "path": reverse("credits:activate")},
            language=entry.doctor.language,
        )
    except Exception:
        OutboxRecord.objects.filter(entry_id=entry_id).update(announced_at=None)
        raise


@shared_task
def announce_missed() -> int:
    """Periodic (beat): announce the ledger rows whose message never reached a worker (the broker was down
    when they were written). Returns how many were queued."""
    from ministry_sync.models import OutboxRecord

    written_before = timezone.now() - timedelta(seconds=settings.ANNOUNCE_GRACE_SECONDS)
    missed = list(
        OutboxRecord.objects.filter(announced_at=None, created_at__lte=written_before)
        .order_by("created_at")
        .values_list("entry_id", flat=True)[:1000]
    )
    for entry_id in missed:
        announce_credit_entry.delay(entry_id=entry_id)
    return len(missed)
