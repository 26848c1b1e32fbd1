"""The periodic re-send of pending records (ministry_sync.services.resend_undelivered) in bounded runs: a run
queues RESEND_MAX records at most, and a run that read a full batch queues its continuation from its last
record; every due record is delivered across the runs, once, however many runs there are at the same time."""

from datetime import date

import pytest
from django.db import connection

from credits.models import OutboxRecord
from credits.services import ledger_adjust
from ministry_mock.models import ReceivedRecord, Specialist, SpecialistCycle
from ministry_sync import services
from ministry_sync.models import MinistryLink
from nmo_portal.celery import app as celery_app

from ..concurrency import run_at_once
from ..factories import StaffFactory

pytestmark = pytest.mark.usefixtures("ministry_in_process")


@pytest.fixture
def pending(doctor, psychiatry):
    """Five records of a linked doctor, waiting (their own messages never ran), due in the order written."""
    specialist = Specialist.objects.create(
        snils=doctor.doctor_profile.snils, login="petrov.ap", full_name="Петров Андрей Павлович"
    )
    SpecialistCycle.objects.create(
        specialist=specialist, specialty_code="31.08.20", starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
    )
    MinistryLink.objects.create(doctor=doctor, login="petrov.ap", state=MinistryLink.State.LINKED)
    staff = StaffFactory()
    entries = [
        ledger_adjust(doctor=doctor, credits=1, reason="Перенос", actor=staff, specialty=psychiatry) for _ in range(5)
    ]
    return list(OutboxRecord.objects.filter(entry__in=entries).order_by("next_attempt_at", "pk"))


def delivered_once(records):
    """Each record delivered, after one attempt (a second send would have counted a second)."""
    states = sorted(OutboxRecord.objects.filter(pk__in=[r.pk for r in records]).values_list("state", "attempts"))
    return states == [(OutboxRecord.State.DELIVERED, 1)] * len(records) and ReceivedRecord.objects.count() == len(
        records
    )


@pytest.mark.django_db
def test_more_due_records_than_a_run_takes_are_all_delivered_across_runs(pending, monkeypatch):
    monkeypatch.setattr(services, "RESEND_MAX", 2)

    runs = [services.resend_undelivered() for _ in range(4)]

    assert runs == [2, 2, 1, 0]
    assert delivered_once(pending)


@pytest.mark.django_db
def test_a_run_that_read_a_full_batch_queues_its_continuation_from_its_last_record(pending, monkeypatch):
    monkeypatch.setattr(services, "RESEND_MAX", 2)
    queued, continuations = [], []
    monkeypatch.setattr(services.push_credit_records, "delay", lambda outbox_ids: queued.append(outbox_ids))
    monkeypatch.setattr(services.resend_undelivered, "apply_async", lambda **options: continuations.append(options))
    celery_app.conf.task_always_eager = False  # a worker runs the tasks (the autouse fixture turns it back)

    assert services.resend_undelivered() == 2
    while continuations:
        options = continuations.pop()
        assert options["countdown"] == services.RESEND_PAUSE_SECONDS
        services.resend_undelivered(**options["kwargs"])

    # the first run and its two continuations: each record queued once, the longest due first
    assert queued == [[r.pk for r in pending[:2]], [r.pk for r in pending[2:4]], [pending[4].pk]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking is PostgreSQL's")
def test_two_runs_at_the_same_instant_deliver_each_record_once(pending):
    outcomes = run_at_once([services.resend_undelivered] * 2)

    assert all(kind == "ok" for kind, _count in outcomes), outcomes
    assert delivered_once(pending)
