import logging

from celery import shared_task
from django.urls import reverse

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
    is told by e-mail. A failure to queue the record does not cost the e-mail: the record is safe in the
    outbox, and the periodic re-send takes it."""
    from ministry_sync.services import outbox_dispatch

    from .models import CreditEntry

    entry = CreditEntry.objects.select_related("doctor", "event", "code", "module__organization").get(pk=entry_id)
    try:
        outbox_dispatch(entry)
    except Exception:
        logger.exception("Could not queue the Ministry record of ledger entry %s; the periodic re-send will", entry_id)
    template = EMAIL_TEMPLATE.get(entry.kind)
    if template is not None:
        send_templated_mail(
            to=[entry.doctor.email],
            template=template,
            context={"entry": entry, "path": reverse("credits:activate")},
            language=entry.doctor.language,
        )
