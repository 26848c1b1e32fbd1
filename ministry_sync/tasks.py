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


BATCH = 100


@shared_task(acks_late=True)
def push_credit_records(*, outbox_ids: list[int]) -> int:
    """Deliver a batch over one connection; what failed for now is tried again when its backoff is over."""
    records = services.push_many(outbox_ids)
    waiting = [r for r in records if r.state == OutboxRecord.State.PENDING and r.attempts]
    if waiting:
        eta = min(r.next_attempt_at for r in waiting)
        push_credit_records.apply_async(kwargs={"outbox_ids": [r.pk for r in waiting]}, eta=eta)
    return sum(1 for r in records if r.state == OutboxRecord.State.DELIVERED)


@shared_task
def resend_undelivered() -> int:
    """Periodic (beat): re-send every pending record that is due, in batches; returns how many were queued."""
    due = services.due_records()
    for start in range(0, len(due), BATCH):
        push_credit_records.delay(outbox_ids=due[start : start + BATCH])
    return len(due)
