"""The outbox retention (SPEC.md, "Scale"): delivered rows are removed OUTBOX_RETENTION_DAYS after delivery by a
nightly task; rows still waiting, failed or not announced stay, and the ledger and the audit rows are kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from credits.models import CreditEntry, OutboxRecord
from credits.services import ledger_append
from credits.tasks import outbox_prune, prune_delivered_outbox

pytestmark = pytest.mark.django_db


def _row(doctor, staff, *, state: str, delivered_days_ago: int | None, announced: bool = True) -> OutboxRecord:
    entry = ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.ADJUSTMENT,
        source=CreditEntry.Source.ADJUSTMENT,
        credits=1,
        earned_on=timezone.localdate(),
        actor=staff,
        comment="Перенос из старой системы",
    )
    now = timezone.now()
    OutboxRecord.objects.filter(entry=entry).update(
        state=state,
        delivered_at=None if delivered_days_ago is None else now - timedelta(days=delivered_days_ago),
        announced_at=now if announced else None,
    )
    return OutboxRecord.objects.get(entry=entry)


def _left() -> set[int]:
    return set(OutboxRecord.objects.values_list("pk", flat=True))


def test_the_nightly_task_removes_delivered_rows_past_the_retention_and_keeps_the_rest(doctor, staff, settings):
    settings.OUTBOX_RETENTION_DAYS = 90
    old = _row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=91)
    recent = _row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=89)
    waiting = _row(doctor, staff, state=OutboxRecord.State.PENDING, delivered_days_ago=None)
    failed = _row(doctor, staff, state=OutboxRecord.State.FAILED, delivered_days_ago=None)
    OutboxRecord.objects.filter(pk__in=[waiting.pk, failed.pk]).update(created_at=timezone.now() - timedelta(days=400))
    unannounced = _row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=400, announced=False)
    ledger = CreditEntry.objects.count()
    audit = AuditEvent.objects.count()

    assert prune_delivered_outbox() == 1

    assert _left() == {recent.pk, waiting.pk, failed.pk, unannounced.pk}
    assert not OutboxRecord.objects.filter(pk=old.pk).exists()
    # the ledger keeps the credit the removed row carried, and the audit trail is whole
    assert CreditEntry.objects.count() == ledger
    assert CreditEntry.objects.filter(pk=old.entry_id).exists()
    assert AuditEvent.objects.count() == audit


def test_the_retention_follows_the_setting(doctor, staff, settings):
    month_old = _row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=31)
    week_old = _row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=7)
    settings.OUTBOX_RETENTION_DAYS = 90
    assert prune_delivered_outbox() == 0
    settings.OUTBOX_RETENTION_DAYS = 30
    assert prune_delivered_outbox() == 1
    assert _left() == {week_old.pk}
    assert month_old.pk not in _left()


def test_a_run_deletes_in_bounded_batches_and_stops_at_its_time_budget(doctor, staff, django_assert_num_queries):
    rows = [_row(doctor, staff, state=OutboxRecord.State.DELIVERED, delivered_days_ago=200 - n) for n in range(5)]
    before = timezone.now() - timedelta(days=90)
    # no time left after the first batch: the run stops there, having removed the oldest two, and says more are left
    removed, done = outbox_prune(before=before, batch=2, seconds=0)
    assert (removed, done) == (2, False)
    assert _left() == {row.pk for row in rows[2:]}
    # with time, batch after batch until a batch comes short
    # two batches, each one read and one DELETE (no row fetched to delete it) in its own transaction (a savepoint
    # here, inside the test's transaction)
    with django_assert_num_queries(2 * 4):
        removed, done = outbox_prune(before=before, batch=2, seconds=60)
    assert (removed, done) == (3, True)
    assert _left() == set()
