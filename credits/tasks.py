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
def send_activation_email(*, entry_id: int) -> None:
    from .models import CreditEntry

    entry = CreditEntry.objects.select_related("doctor", "event", "code", "module__organization").get(pk=entry_id)
    send_templated_mail(
        to=[entry.doctor.email],
        template="credits/email/activated",
        context={"entry": entry, "path": reverse("credits:activate")},
        language=entry.doctor.language,
    )


@shared_task
def send_reversal_email(*, entry_id: int) -> None:
    from .models import CreditEntry

    entry = CreditEntry.objects.select_related("doctor", "event", "code").get(pk=entry_id)
    send_templated_mail(
        to=[entry.doctor.email],
        template="credits/email/reversed",
        context={"entry": entry, "path": reverse("credits:activate")},
        language=entry.doctor.language,
    )
