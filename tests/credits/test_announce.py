"""What follows a committed ledger row (credits.tasks.announce_credit_entry): the doctor's e-mail and the
hand-over of the record to the Ministry, from one message of the request that wrote the row."""

import logging

import pytest
from django.utils import timezone

from credits.models import CreditEntry
from credits.services import code_activate, ledger_append
from ministry_sync.models import OutboxRecord

pytestmark = pytest.mark.django_db


def test_the_email_goes_out_even_when_the_ministry_record_cannot_be_queued(
    doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(entry):
        raise RuntimeError("database blip")

    monkeypatch.setattr("ministry_sync.services.outbox_dispatch", broken)
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
    assert OutboxRecord.objects.filter(entry=entry).exists()  # the Ministry still gets the record
