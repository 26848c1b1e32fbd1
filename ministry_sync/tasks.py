from celery import shared_task
from celery.app.task import Task

from . import services
from .models import MinistryLink, OutboxRecord


@shared_task(bind=True, max_retries=None, acks_late=True)
def link_ministry_account(self: Task, *, link_id: int) -> str:  # type: ignore[type-arg]
    try:
        return services.link_perform(link_id).state
    except services.TransientError as exc:
        link_attempts = MinistryLink.objects.get(pk=link_id).attempts
        raise self.retry(countdown=services.backoff(link_attempts).total_seconds(), exc=exc) from exc


@shared_task(acks_late=True)
def push_credit_record(*, outbox_id: int) -> str | None:
    """Deliver one outbox row; on a transient failure schedule the next try (the periodic task also would)."""
    record = services.push_perform(outbox_id)
    if record is None:
        return None
    if record.state == OutboxRecord.State.PENDING and record.attempts:
        push_credit_record.apply_async(kwargs={"outbox_id": outbox_id}, eta=record.next_attempt_at)
    return str(record.state)


@shared_task
def resend_undelivered() -> int:
    """Periodic (beat): re-send every pending record that is due; returns how many were queued."""
    due = services.due_records()
    for outbox_id in due:
        push_credit_record.delay(outbox_id=outbox_id)
    return len(due)
