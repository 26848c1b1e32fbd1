"""With a worker (a broker configured), no request publishes a message per ledger row: beat's `announce_new`
finds the new rows, hands each record to the Ministry and e-mails the doctor."""

import logging

import pytest

from codes.services import code_activate
from credits import tasks
from credits.models import CreditEntry, OutboxRecord
from ministry_sync.services import push_credit_record
from nmo_portal.celery import app as celery_app

from ..factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_a_worker(monkeypatch):
    """Tasks go to a worker: the request sends nothing; what `announce_new` queues is recorded."""
    celery_app.conf.task_always_eager = False  # the autouse fixture turns it back
    queued = {"announce": [], "push": []}
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: queued["announce"].append(kwargs))
    monkeypatch.setattr(push_credit_record, "delay", lambda **kwargs: queued["push"].append(kwargs))
    yield queued
    celery_app.conf.task_always_eager = True


def test_an_activation_sends_no_message_and_the_poll_mails_and_hands_it_over_once(
    with_a_worker, doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks
):
    (code,) = make_codes(ended_event)
    with django_capture_on_commit_callbacks(execute=True):
        entry = code_activate(user=doctor, raw=code.code, ip=None)
    assert with_a_worker == {"announce": [], "push": []}
    assert mailoutbox == []
    record = OutboxRecord.objects.get(entry=entry)
    assert tasks.announce_new() == 1
    assert with_a_worker["push"] == [{"outbox_id": record.pk}]
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    record.refresh_from_db()
    assert (record.announce_attempts, record.announced_at is not None) == (1, True)
    assert tasks.announce_new() == 0  # taken once: the next run finds nothing
    assert len(mailoutbox) == 1
    assert tasks.announce_missed() == 0  # and nothing for the sweep


def test_the_poll_leaves_rows_others_took_and_takes_many_in_batches(
    with_a_worker, ended_event_factory, mailoutbox, monkeypatch
):
    monkeypatch.setattr(tasks, "NEW_BATCH", 2)
    doctors = [DoctorProfileFactory().user for _ in range(5)]
    entries = [code_activate(user=d, raw=ended_event_factory()[1].code, ip=None) for d in doctors]
    OutboxRecord.objects.filter(entry=entries[0]).update(announce_attempts=1)  # the request's own (in-process)
    assert tasks.announce_new() == 4
    assert sorted(m.to[0] for m in mailoutbox) == sorted(d.email for d in doctors[1:])
    assert OutboxRecord.objects.filter(announced_at=None).count() == 1


def test_a_failing_email_is_left_to_the_sweep_and_does_not_stop_the_others(
    with_a_worker, ended_event_factory, mailoutbox, monkeypatch, caplog
):
    first, second = DoctorProfileFactory().user, DoctorProfileFactory().user
    failing = code_activate(user=first, raw=ended_event_factory()[1].code, ip=None)
    code_activate(user=second, raw=ended_event_factory()[1].code, ip=None)
    announce = tasks._announce

    def smtp_down_for_the_first(entry):
        if entry.pk == failing.pk:
            raise ConnectionError("smtp down")
        announce(entry)

    monkeypatch.setattr(tasks, "_announce", smtp_down_for_the_first)
    with caplog.at_level(logging.ERROR):
        assert tasks.announce_new() == 2
    assert [m.to for m in mailoutbox] == [[second.email]]
    assert "sweep tries again" in caplog.text
    record = OutboxRecord.objects.get(entry=failing)
    assert (record.announce_attempts, record.announced_at) == (1, None)  # the sweep's, once the claim runs out
    assert record.announce_due_at > record.created_at


def test_an_adjustment_is_handed_over_but_not_mailed(with_a_worker, doctor, staff, mailoutbox):
    from credits.services import ledger_adjust

    entry = ledger_adjust(
        doctor=doctor, credits=2, reason="Перенос", actor=staff, specialty=doctor.doctor_profile.specialties.first()
    )
    assert tasks.announce_new() == 1
    assert mailoutbox == []
    assert with_a_worker["push"] == [{"outbox_id": OutboxRecord.objects.get(entry=entry).pk}]
    assert OutboxRecord.objects.get(entry=entry).announced_at is not None
    assert CreditEntry.objects.count() == 1
