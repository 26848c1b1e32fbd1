"""What follows a committed ledger row: its record handed to the Ministry, and the doctor's e-mail.

Who announces a new row depends on where tasks run (`CELERY_TASK_ALWAYS_EAGER`, which is on when no broker is
configured: the tests, a bare `runserver`). In-process, the request announces it right after its commit
(`announce_credit_entry`). With a broker, no message is published per row: the worker finds new rows itself
(`announce_new`, which beat runs every `ANNOUNCE_POLL_SECONDS`), so an activation costs the request no
message, and an activation written while the broker is down is announced once it is back. `announce_missed`
stays the safety net for rows whose announcement failed or whose worker was lost."""

import logging
import time
from datetime import datetime, timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from nmo_portal.celery import enqueue_on_commit
from nmo_portal.mail import send_templated_mail

from .models import ANNOUNCE_MAX_ATTEMPTS, CreditEntry, OutboxRecord
from .selectors import described

logger = logging.getLogger(__name__)


# The e-mail a doctor gets for each kind of ledger row; an administrator's adjustment is explained by them.
EMAIL_TEMPLATE = {"credit": "credits/email/activated", "reversal": "credits/email/reversed"}
# How long whoever takes a row to announce has before the sweep may take it again (a worker lost mid-way);
# the sweep doubles it at each attempt and gives up after ANNOUNCE_MAX_ATTEMPTS (10 + 20 + … + 160 minutes).
ANNOUNCE_CLAIM = timedelta(minutes=10)
# The sweep takes at most SWEEP_BATCH rows per run: each taken row is an UPDATE that writes an entry into every
# index of the outbox, which on a cold cache is a page read from disk each (some 2 ms a row: 1,000 rows took 2.35 s
# at national scale, 200 take well under a second). A run that took a full batch queues the next one
# SWEEP_PAUSE_SECONDS later, so a backlog goes in short runs.
SWEEP_BATCH = 200
SWEEP_PAUSE_SECONDS = 5
# `announce_new` claims at most this many rows per statement, and goes on while batches come full, for at most
# NEW_ROUNDS_SECONDS (beat's next run takes the rest).
NEW_BATCH = 200
NEW_ROUNDS_SECONDS = 20.0
# The retention removes delivered rows PRUNE_BATCH at a time, each batch its own short transaction, for at most
# PRUNE_SECONDS per run; a run that stops with old rows left queues the next one PRUNE_PAUSE_SECONDS later, so a
# backlog (the first run after a deploy: years of rows) goes in short runs that never hold the table for long.
PRUNE_BATCH = 500
PRUNE_SECONDS = 0.4
PRUNE_PAUSE_SECONDS = 5


def announce_on_commit(entry_id: int) -> None:
    """Announce a ledger row written in the current transaction: from this process after commit when tasks
    run in-process; otherwise nothing here, as the worker's `announce_new` finds the row by itself."""
    if current_app.conf.task_always_eager:
        enqueue_on_commit(announce_credit_entry, entry_id=entry_id)


@shared_task
def announce_credit_entry(*, entry_id: int, claimed: bool = False) -> None:
    """What follows a committed ledger row, run after commit by the request that wrote it when tasks run
    in-process (`announce_on_commit`; a worker finds new rows with `announce_new` instead): its record goes
    to the Ministry when the doctor's account is linked (otherwise linking sends it later), and the doctor
    is told by e-mail. A failure to queue the record does not cost the e-mail: the record is safe in the
    outbox, and the periodic re-send takes it.

    The e-mail goes out once: this message takes the row before sending, so a copy the broker delivers again
    (a worker lost before its ack) finds it taken. Rows no message announced (the broker was down, the worker
    was lost, sending failed) are taken by `announce_missed`, which sends them here with `claimed`."""
    (entry,) = described(CreditEntry.objects.select_related("doctor").filter(pk=entry_id))
    if claimed:
        record = OutboxRecord.objects.filter(entry_id=entry_id, announced_at=None).first()
        if record is None:
            return  # a copy delivered again after the first one announced it
        try:
            _announce(entry)
        except Exception:
            if record.announce_attempts >= ANNOUNCE_MAX_ATTEMPTS:
                logger.error("Gave up e-mailing ledger entry %s after %d attempts", entry_id, ANNOUNCE_MAX_ATTEMPTS)
            raise
        return
    try:
        _hand_to_the_ministry(entry_id)
    except Exception:
        logger.exception("Could not queue the Ministry record of ledger entry %s; the periodic re-send will", entry_id)
    taken = OutboxRecord.objects.filter(entry_id=entry_id, announced_at=None, announce_attempts=0).update(
        announce_attempts=1, announce_due_at=timezone.now() + ANNOUNCE_CLAIM
    )
    if taken:
        _announce(entry)
    elif not OutboxRecord.objects.filter(entry_id=entry_id).exists():
        logger.error("Ledger entry %s has no outbox row: nothing announces it", entry_id)


# ministry_sync delivers records to the Ministry. It stands above the ledger, so the ledger queues its task by
# name (as zulip queues by name) instead of importing it; the task leaves a record waiting while the doctor's
# account is not linked, and linking sends the waiting records.
DELIVERY_TASK = "ministry_sync.push_credit_record"


def _hand_to_the_ministry(entry_id: int) -> None:
    record_id = (
        OutboxRecord.objects.filter(entry_id=entry_id, state=OutboxRecord.State.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
    if record_id is not None:
        current_app.tasks[DELIVERY_TASK].delay(outbox_id=record_id)


def _announce(entry: CreditEntry) -> None:
    """Send the e-mail of a row taken for it, then mark the row announced. If sending fails the row stays
    unannounced, and the sweep takes it again when the claim runs out."""
    template = EMAIL_TEMPLATE.get(entry.kind)
    if template is not None:
        send_templated_mail(
            to=[entry.doctor.email],
            template=template,
            context={"entry": entry, "path": reverse("codes:activate")},
            language=entry.doctor.language,
        )
    OutboxRecord.objects.filter(entry_id=entry.pk).update(announced_at=timezone.now())


def _taking(table: str, rows: str, update: str) -> str:
    """An UPDATE of at most a limit of `rows` (the WHERE and ORDER BY of a SELECT of `table`), chosen once:
    `WITH taken AS MATERIALIZED (SELECT id … LIMIT %s FOR UPDATE SKIP LOCKED) UPDATE <table> <update>`, `update`
    being the SET and a WHERE on `id IN (SELECT id FROM taken)`. Written as `UPDATE … WHERE id IN (SELECT … LIMIT
    %s)` instead, PostgreSQL may run the inner SELECT again for each row it updates (the inner side of a nested
    loop), each time passing over the rows this statement has updated, and so update them all whatever the limit.
    PostgreSQL skips rows a concurrent statement is taking; SQLite runs one writer at a time. The parameters are
    those of `rows`, the limit, then those of `update`."""
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    return (  # the table's own name and fixed clauses formatted in; the values are parameters
        f"WITH taken AS {materialized}(SELECT id FROM {table} WHERE {rows} LIMIT %s{lock}) "  # noqa: S608
        f"UPDATE {table} {update}"
    )


def _claim_sql() -> str:
    """Take new rows (never tried, not announced) in one conditional UPDATE: a row is taken by one run only,
    and its due time is moved a claim ahead, as `announce_credit_entry` does, for the sweep to take it again
    if this worker is lost. The partial index `outbox_unclaimed_idx` holds exactly these rows, so a run that
    finds nothing reads an empty index. Parameters: the limit, the new due time."""
    table = connection.ops.quote_name(OutboxRecord._meta.db_table)
    unclaimed = "announce_attempts = 0 AND announced_at IS NULL"
    return _taking(
        table,
        f"{unclaimed} ORDER BY id",
        "SET announce_attempts = 1, announce_due_at = %s "  # noqa: S608  # fixed clauses; the values are parameters
        f"WHERE id IN (SELECT id FROM taken) AND {unclaimed} RETURNING id, entry_id, state",
    )


def _claim_new(limit: int) -> list[tuple[int, int, str]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [limit, timezone.now() + ANNOUNCE_CLAIM])
        return [(int(pk), int(entry_id), str(state)) for pk, entry_id, state in cursor.fetchall()]


@shared_task
def announce_new() -> int:
    """Periodic (beat, every ANNOUNCE_POLL_SECONDS) when a worker runs the tasks: take the ledger rows nobody
    has announced yet, hand each pending record to the Ministry and e-mail the doctor. A failure of one row
    does not stop the others: its record waits for the periodic re-send, its e-mail for the sweep
    (`announce_missed`) once the claim runs out. Returns how many rows were taken."""
    taken = 0
    deadline = time.monotonic() + NEW_ROUNDS_SECONDS
    while True:
        claimed = _claim_new(NEW_BATCH)
        taken += len(claimed)
        for outbox_id, entry_id, state in claimed:
            if state == OutboxRecord.State.PENDING:
                try:
                    current_app.tasks[DELIVERY_TASK].delay(outbox_id=outbox_id)
                except Exception:
                    logger.exception(
                        "Could not queue the Ministry record of ledger entry %s; the periodic re-send will", entry_id
                    )
        entries = described(CreditEntry.objects.select_related("doctor").filter(pk__in=[c[1] for c in claimed]))
        for entry in entries:
            try:
                _announce(entry)
            except Exception:
                logger.exception("Could not e-mail ledger entry %s; the sweep tries again", entry.pk)
        if len(claimed) < NEW_BATCH or time.monotonic() > deadline:
            return taken


def _sweep_sql() -> str:
    """Take the due rows that are not announced in one conditional UPDATE, oldest due first: each row's due time
    moves past a pause that doubles with its attempts (a CASE over the attempts, as many branches as attempts are
    allowed), so a row still queued is not queued again by the next run; PostgreSQL re-checks each row's
    conditions as it updates it. The rows are chosen as `_taking` says, a range of the partial index
    `outbox_unannounced_idx` (its condition is written out here as it is there, for the planner to match them).
    Parameters: the due time, the limit, then the pause of each number of attempts."""
    table = connection.ops.quote_name(OutboxRecord._meta.db_table)
    pauses = " ".join(f"WHEN {attempts} THEN %s" for attempts in range(ANNOUNCE_MAX_ATTEMPTS))
    unannounced = f"announced_at IS NULL AND announce_attempts < {int(ANNOUNCE_MAX_ATTEMPTS)}"
    return _taking(
        table,
        f"{unannounced} AND announce_due_at <= %s ORDER BY announce_due_at",
        f"SET announce_attempts = announce_attempts + 1, announce_due_at = CASE announce_attempts {pauses} END "  # noqa: S608
        f"WHERE id IN (SELECT id FROM taken) AND {unannounced} RETURNING entry_id",
    )


@shared_task
def announce_missed() -> int:
    """Periodic (beat): take the rows that are due and not announced, SWEEP_BATCH at most, and send each to
    `announce_credit_entry`. They are taken in one conditional UPDATE that moves each one's due time past a
    growing pause, so a row still queued is not queued again by the next run, and a concurrent run takes no row
    twice. A run that took a full batch queues the next (the rows it took are no longer due, so the next takes
    others); in-process (no broker) the next beat run takes the rest. Returns how many were sent."""
    now = timezone.now()
    pauses = [now + ANNOUNCE_CLAIM * 2**attempts for attempts in range(ANNOUNCE_MAX_ATTEMPTS)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_sweep_sql(), [now, SWEEP_BATCH, *pauses])
        taken = [int(entry_id) for (entry_id,) in cursor.fetchall()]
    for entry_id in taken:
        announce_credit_entry.delay(entry_id=entry_id, claimed=True)
    if len(taken) >= SWEEP_BATCH and not current_app.conf.task_always_eager:
        announce_missed.apply_async(countdown=SWEEP_PAUSE_SECONDS)
    return len(taken)


def outbox_prune(*, before: datetime, batch: int = PRUNE_BATCH, seconds: float = PRUNE_SECONDS) -> tuple[int, bool]:
    """Delete the outbox rows delivered to the Ministry before `before` and announced to the doctor, oldest
    first, `batch` rows per transaction, until none is left or `seconds` have passed. A row still waiting, failed
    or not announced stays whatever its age; the ledger row and the audit rows stay (the ledger keeps what was
    credited; the outbox only carried it). The batch is read from the partial index of delivered rows by
    delivery time (`outbox_delivered_idx`), so a run reads what it deletes and no more. Returns how many rows
    were deleted and whether none of that age is left."""
    removed = 0
    deadline = time.monotonic() + seconds
    old = OutboxRecord.objects.filter(
        state=OutboxRecord.State.DELIVERED, delivered_at__lt=before, announced_at__isnull=False
    )
    while True:
        with transaction.atomic():
            ids = list(old.order_by("delivered_at").values_list("pk", flat=True)[:batch])
            if ids:
                removed += old.filter(pk__in=ids).delete()[0]
        if len(ids) < batch:
            return removed, True
        if time.monotonic() >= deadline:
            return removed, False


@shared_task
def prune_delivered_outbox() -> int:
    """Periodic (beat, nightly): remove the outbox rows delivered more than OUTBOX_RETENTION_DAYS ago (SPEC.md,
    "Scale"), in runs of at most PRUNE_SECONDS; while old rows are left, each run queues the next. Returns how
    many rows this run removed."""
    before = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    removed, done = outbox_prune(before=before)
    logger.info("Outbox retention removed %d delivered rows older than %s", removed, before)
    # In-process (no broker) the next night's run takes the rest, rather than this one recursing through it.
    if not done and not current_app.conf.task_always_eager:
        prune_delivered_outbox.apply_async(countdown=PRUNE_PAUSE_SECONDS)
    return removed
