from celery import shared_task
from django.urls import reverse

from nmo_portal.mail import send_templated_mail

# Tasks defined beside the code they drive; imported here so that workers register them.
from .certificates import build_event_certificates, mail_certificates  # noqa: F401


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


@shared_task
def announce_credit_entry(*, entry_id: int) -> None:
    """What follows a committed ledger row, as one message from the request that wrote it: its record goes
    to the Ministry when the doctor's account is linked (otherwise linking sends it later), and the doctor
    is told by e-mail."""
    from ministry_sync.services import outbox_dispatch

    from .models import CreditEntry

    entry = CreditEntry.objects.select_related("doctor", "event", "code", "module__organization").get(pk=entry_id)
    outbox_dispatch(entry)
    send_templated_mail(
        to=[entry.doctor.email],
        template="credits/email/reversed" if entry.kind == CreditEntry.Kind.REVERSAL else "credits/email/activated",
        context={"entry": entry, "path": reverse("credits:activate")},
        language=entry.doctor.language,
    )
