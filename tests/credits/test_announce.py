"""What follows a committed ledger row (credits.tasks.announce_credit_entry): the doctor's e-mail and the
hand-over of the record to the Ministry, from one message of the request that wrote the row."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from codes.services import code_activate
from credits.models import CreditEntry, OutboxRecord
from credits.services import ledger_append
from ministry_sync.services import push_credit_record

from ..factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


def test_the_email_goes_out_even_when_the_ministry_record_cannot_be_queued(
    doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(**kwargs):
        raise RuntimeError("broker blip")

    # the ledger queues ministry_sync's delivery task by its name; queueing it fails
    monkeypatch.setattr(push_credit_record, "delay", broken)
    (code,) = make_codes(ended_event)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        entry = code_activate(user=doctor, raw=code.code, ip="10.0.0.1")
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    assert "periodic re-send" in caplog.text
    # the record waits in the outbox, due now, for the periodic re-send
    record = OutboxRecord.objects.get(entry=entry)
    assert record.state == OutboxRecord.State.PENDING
    assert record.next_attempt_at <= timezone.now()


def test_an_administrators_adjustment_is_not_announced_as_an_activation(
    doctor, staff, mailoutbox, django_capture_on_commit_callbacks
):
    from credits.tasks import announce_missed

    with django_capture_on_commit_callbacks(execute=True):
        entry = ledger_append(
            doctor=doctor,
            kind=CreditEntry.Kind.ADJUSTMENT,
            source=CreditEntry.Source.ADJUSTMENT,
            credits=3,
            earned_on=timezone.localdate(),
            actor=staff,
            comment="Перенос из старой системы",
        )
    assert mailoutbox == []
    record = OutboxRecord.objects.get(entry=entry)  # the Ministry still gets the record
    assert record.announced_at is not None  # done: nothing to send, and nothing for the sweep
    _make_due(record)
    assert announce_missed() == 0


def _make_due(record: OutboxRecord) -> None:
    OutboxRecord.objects.filter(pk=record.pk).update(announce_due_at=timezone.now() - timedelta(seconds=1))


def test_a_message_delivered_twice_mails_once(doctor, ended_event, make_codes, mailoutbox):
    from credits.tasks import announce_credit_entry

    (code,) = make_codes(ended_event)
    entry = code_activate(user=doctor, raw=code.code, ip=None)  # no commit in the test: nothing sent yet
    announce_credit_entry(entry_id=entry.pk)
    announce_credit_entry(entry_id=entry.pk)  # a worker lost before its ack: the broker delivers it again
    assert len(mailoutbox) == 1
    assert OutboxRecord.objects.get(entry=entry).announced_at is not None


def test_activations_written_while_the_broker_was_down_are_announced_by_the_sweep(
    doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    """The credit is there at once; the e-mail follows once the grace period is over and the sweep runs."""
    from credits import tasks

    def broker_down(**kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    (code,) = make_codes(ended_event)
    with monkeypatch.context() as patched:
        patched.setattr(tasks.announce_credit_entry, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            entry = code_activate(user=doctor, raw=code.code, ip=None)
    assert mailoutbox == []
    assert tasks.announce_missed() == 0  # within the grace period its message might still be on its way

    _make_due(OutboxRecord.objects.get(entry=entry))
    assert tasks.announce_missed() == 1
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    _make_due(OutboxRecord.objects.get(entry=entry))
    assert tasks.announce_missed() == 0  # announced: never mailed again
    assert len(mailoutbox) == 1


def test_the_sweep_queues_a_row_once_while_it_waits_in_the_queue(
    doctor, ended_event, make_codes, monkeypatch, mailoutbox
):
    """A backlog longer than the grace period must not fill the queue with copies, one per sweep."""
    from credits import tasks

    (code,) = make_codes(ended_event)
    entry = code_activate(user=doctor, raw=code.code, ip=None)  # its own message never ran
    _make_due(OutboxRecord.objects.get(entry=entry))
    queued = []
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: queued.append(kwargs))
    assert tasks.announce_missed() == 1
    assert tasks.announce_missed() == 0
    assert queued == [{"entry_id": entry.pk, "claimed": True}]
    # the original message, arriving late, finds the row taken by the sweep
    tasks.announce_credit_entry(entry_id=entry.pk)
    assert mailoutbox == []


def _due_in(record: OutboxRecord) -> timedelta:
    record.refresh_from_db()
    return record.announce_due_at - timezone.now()


def test_a_failed_email_is_tried_again_by_the_sweep_after_a_doubling_pause(
    doctor, ended_event, make_codes, mailoutbox, monkeypatch
):
    from credits import tasks

    (code,) = make_codes(ended_event)
    entry = code_activate(user=doctor, raw=code.code, ip=None)
    record = OutboxRecord.objects.get(entry=entry)

    def smtp_down(**kwargs):
        raise OSError("Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(tasks, "send_templated_mail", smtp_down)
        with pytest.raises(OSError, match="refused"):
            tasks.announce_credit_entry(entry_id=entry.pk)  # the original message
        assert OutboxRecord.objects.get(pk=record.pk).announce_attempts == 1
        assert timedelta(minutes=9) < _due_in(record) <= timedelta(minutes=10)  # its claim, not the grace period
        assert tasks.announce_missed() == 0  # the claim has not run out yet

        _make_due(record)
        with pytest.raises(OSError, match="refused"):  # Celery runs eagerly in tests: the failure comes up here
            tasks.announce_missed()
        assert timedelta(minutes=19) < _due_in(record) <= timedelta(minutes=20)  # the pause doubled
    record.refresh_from_db()
    assert (record.announced_at, record.announce_attempts) == (None, 2)

    _make_due(record)
    assert tasks.announce_missed() == 1
    assert len(mailoutbox) == 1
    record.refresh_from_db()
    assert record.announced_at is not None
    assert record.announce_attempts == 3


def test_the_sweep_mails_once_and_never_dispatches_to_the_ministry_again(
    doctor, ended_event, make_codes, mailoutbox, monkeypatch
):
    """The original message hands the record over; the periodic re-send covers the Ministry after that."""
    from credits import tasks

    (code,) = make_codes(ended_event)
    entry = code_activate(user=doctor, raw=code.code, ip=None)  # its own message never ran
    dispatched = []
    monkeypatch.setattr(push_credit_record, "delay", lambda **kwargs: dispatched.append(kwargs))
    _make_due(OutboxRecord.objects.get(entry=entry))
    assert tasks.announce_missed() == 1
    tasks.announce_credit_entry(entry_id=entry.pk, claimed=True)  # the sweep's message delivered again
    assert len(mailoutbox) == 1
    assert dispatched == []


def test_the_sweep_makes_the_last_attempt_then_gives_up(doctor, ended_event, make_codes, mailoutbox):
    from credits import tasks
    from credits.models import ANNOUNCE_MAX_ATTEMPTS

    first, last = make_codes(ended_event, 2)
    entries = [code_activate(user=doctor, raw=first.code, ip=None)]
    second_doctor = DoctorProfileFactory(specialties=list(ended_event.specialties.all())).user
    entries.append(code_activate(user=second_doctor, raw=last.code, ip=None))
    for entry, attempts in zip(entries, (ANNOUNCE_MAX_ATTEMPTS - 1, ANNOUNCE_MAX_ATTEMPTS), strict=True):
        OutboxRecord.objects.filter(entry=entry).update(
            announce_attempts=attempts, announce_due_at=timezone.now() - timedelta(days=1)
        )
    assert tasks.announce_missed() == 1
    assert [m.to for m in mailoutbox] == [[doctor.email]]  # the last attempt; the row past it is left alone


def test_the_sweep_takes_its_due_rows_in_one_statement_however_many(
    doctor, adjustments, monkeypatch, django_assert_max_num_queries
):
    from credits.tasks import ANNOUNCE_CLAIM, announce_credit_entry, announce_missed

    entries = adjustments(doctor, 5)
    # their e-mails failed: not announced, tried once or twice, due again
    OutboxRecord.objects.filter(entry__in=entries[:3]).update(announced_at=None, announce_attempts=1)
    OutboxRecord.objects.filter(entry__in=entries[3:]).update(announced_at=None, announce_attempts=2)
    OutboxRecord.objects.update(announce_due_at=timezone.now() - timedelta(seconds=1))
    queued = []
    monkeypatch.setattr(announce_credit_entry, "delay", lambda **kwargs: queued.append(kwargs))

    with django_assert_max_num_queries(3):  # the UPDATE … RETURNING in its transaction
        assert announce_missed() == 5

    assert sorted(q["entry_id"] for q in queued) == sorted(e.pk for e in entries)
    assert all(q["claimed"] for q in queued)
    after = timezone.now()
    for record in OutboxRecord.objects.all():
        # taken once more, and not due again before a pause that doubles with each attempt
        assert record.announce_attempts in (2, 3)
        assert record.announce_due_at > after + ANNOUNCE_CLAIM * 2 ** (record.announce_attempts - 1) - timedelta(
            seconds=5
        )
    assert announce_missed() == 0  # nothing due until the pauses run out


def _failed_emails(adjustments, doctor, count: int) -> list[CreditEntry]:
    """Ledger rows whose e-mail failed once and is due again."""
    entries = adjustments(doctor, count)
    OutboxRecord.objects.filter(entry__in=entries).update(
        announced_at=None, announce_attempts=1, announce_due_at=timezone.now() - timedelta(seconds=1)
    )
    return entries


def test_a_sweep_takes_a_bounded_batch_and_its_continuations_take_the_rest_once(doctor, adjustments, monkeypatch):
    from credits import tasks
    from nmo_portal.celery import app as celery_app

    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    entries = _failed_emails(adjustments, doctor, 5)
    queued, continuations = [], []
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: queued.append(kwargs["entry_id"]))
    monkeypatch.setattr(tasks.announce_missed, "apply_async", lambda **options: continuations.append(options))
    celery_app.conf.task_always_eager = False  # a worker runs the tasks (the autouse fixture turns it back)

    runs = [tasks.announce_missed() for _ in range(4)]

    assert runs == [2, 2, 1, 0]
    # a full batch queues the next run (after a pause); the last, short, one does not
    assert continuations == [{"countdown": tasks.SWEEP_PAUSE_SECONDS}] * 2
    assert sorted(queued) == sorted(entry.pk for entry in entries)  # each row once


def test_in_process_a_sweep_queues_no_continuation_and_the_next_beat_run_takes_the_rest(
    doctor, adjustments, monkeypatch
):
    from credits import tasks

    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    entries = _failed_emails(adjustments, doctor, 3)
    queued = []
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: queued.append(kwargs["entry_id"]))
    monkeypatch.setattr(tasks.announce_missed, "apply_async", lambda **options: pytest.fail("queued in-process"))

    assert [tasks.announce_missed(), tasks.announce_missed()] == [2, 1]
    assert sorted(queued) == sorted(entry.pk for entry in entries)
