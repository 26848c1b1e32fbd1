"""Every credit reaches the Ministry exactly once: a real worker, a real broker, the mock over HTTP."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from codes.format import generate_codes
from codes.models import IcpCode
from codes.services import code_activate
from credits.models import CreditEntry, OutboxRecord
from ministry_mock.models import Faults, ReceivedRecord, Specialist, SpecialistCycle
from ministry_sync import services
from ministry_sync.models import MinistryLink
from ministry_sync.tasks import resend_undelivered

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory
from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def faults():
    row, _ = Faults.objects.get_or_create(pk=1)
    yield row
    Faults.objects.filter(pk=1).update(latency_ms=0, failure_rate=0.0, down=False)


def set_faults(**values):
    Faults.objects.update_or_create(pk=1, defaults=values)


@pytest.fixture
def ended_event(psychiatry):
    ends = timezone.now() - timedelta(days=1)
    return EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )


def linked_doctors(n, psychiatry):
    """Doctors registered at the Ministry and linked to it, as the linking flow leaves them."""
    doctors = []
    for _ in range(n):
        doctor = DoctorProfileFactory(specialties=[psychiatry]).user
        snils = doctor.doctor_profile.snils
        specialist = Specialist.objects.create(snils=snils, login=f"login-{snils}", full_name=doctor.full_name)
        SpecialistCycle.objects.create(
            specialist=specialist, specialty_code="31.08.20", starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
        )
        MinistryLink.objects.create(doctor=doctor, login=specialist.login, state=MinistryLink.State.LINKED)
        doctors.append(doctor)
    return doctors


def activate_all(doctors, event):
    codes = [IcpCode.objects.create(code=c, event=event) for c in generate_codes(len(doctors))]
    for doctor, code in zip(doctors, codes, strict=True):
        code_activate(user=doctor, raw=code.code, ip=None)


def delivered_count():
    return OutboxRecord.objects.filter(state=OutboxRecord.State.DELIVERED).count()


def test_an_activation_record_arrives_at_the_mock_once(real_broker, faults, ended_event, psychiatry):
    (doctor,) = linked_doctors(1, psychiatry)
    activate_all([doctor], ended_event)
    wait_for(lambda: delivered_count() == 1, 30, message="delivery")
    (received,) = ReceivedRecord.objects.all()
    assert received.specialist.snils == doctor.doctor_profile.snils
    assert (received.kind, received.zet) == ("educationElementZet", 6)
    assert received.cycle is not None
    # the periodic re-send finds nothing more to do, and sending the record again changes nothing
    record = OutboxRecord.objects.get()
    resend_undelivered.delay()
    services.push_perform(record.pk)
    assert ReceivedRecord.objects.count() == 1


def test_with_the_broker_down_activations_succeed_and_arrive_once_it_is_back(
    real_broker, faults, ended_event, psychiatry
):
    doctors = linked_doctors(200, psychiatry)
    real_broker.stop()
    activate_all(doctors, ended_event)  # every enqueue fails; nothing is lost
    assert CreditEntry.objects.count() == 200
    assert OutboxRecord.objects.filter(state=OutboxRecord.State.PENDING).count() == 200
    assert ReceivedRecord.objects.count() == 0
    real_broker.start()
    # no message was published for them, then or now: the worker's beat (announce_new) finds the new rows
    # once it reaches the broker again, hands each to the Ministry and e-mails the doctor
    wait_for(lambda: delivered_count() == 200, 120, interval=0.5, message="200 deliveries")
    assert ReceivedRecord.objects.count() == 200
    assert ReceivedRecord.objects.values("specialist").distinct().count() == 200
    wait_for(lambda: not OutboxRecord.objects.filter(announced_at=None).exists(), 30, message="200 e-mails")
    assert set(OutboxRecord.objects.values_list("announce_attempts", flat=True)) == {1}  # each e-mailed once


def test_with_the_mock_failing_30_percent_every_record_arrives_exactly_once(
    real_broker, faults, ended_event, psychiatry
):
    doctors = linked_doctors(60, psychiatry)
    set_faults(failure_rate=0.3)
    activate_all(doctors, ended_event)

    def all_delivered():
        resend_undelivered.delay()  # beat's job, sped up for the test
        return delivered_count() == 60

    wait_for(all_delivered, 120, interval=1.0, message="60 deliveries through failures")
    assert ReceivedRecord.objects.count() == 60
    assert OutboxRecord.objects.filter(attempts__gt=1).exists()  # some did fail and were retried


def test_with_the_mock_down_records_wait_and_arrive_after_it_returns(real_broker, faults, ended_event, psychiatry):
    doctors = linked_doctors(10, psychiatry)
    set_faults(down=True)
    activate_all(doctors, ended_event)

    def all_tried():
        resend_undelivered.delay()  # beat's job, sped up: a first message may wait behind others in the queue
        return not OutboxRecord.objects.filter(attempts=0).exists()

    wait_for(all_tried, 30, interval=1.0, message="first attempts")
    assert delivered_count() == 0  # nothing is marked delivered early
    assert ReceivedRecord.objects.count() == 0
    set_faults(down=False)

    def all_delivered():
        resend_undelivered.delay()
        return delivered_count() == 10

    wait_for(all_delivered, 60, interval=1.0, message="deliveries after the mock returns")
    assert ReceivedRecord.objects.count() == 10


def test_linking_a_snils_the_mock_does_not_know_fails_with_a_readable_reason(real_broker, psychiatry):
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    link = services.link_request(doctor=doctor, login="unknown.login")
    wait_for(lambda: MinistryLink.objects.get(pk=link.pk).state != MinistryLink.State.PENDING, 30, message="link")
    link.refresh_from_db()
    assert link.state == MinistryLink.State.FAILED
    assert "СНИЛС" in link.reason


def test_linking_sends_the_records_that_waited(real_broker, faults, ended_event, psychiatry):
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    snils = doctor.doctor_profile.snils
    Specialist.objects.create(snils=snils, login="kuznetsova.av", full_name=doctor.full_name)
    activate_all([doctor], ended_event)
    assert OutboxRecord.objects.get().state == OutboxRecord.State.PENDING  # not linked yet: it waits
    services.link_request(doctor=doctor, login="kuznetsova.av")
    wait_for(lambda: delivered_count() == 1, 30, message="delivery after linking")
    assert MinistryLink.objects.get(doctor=doctor).state == MinistryLink.State.LINKED
    assert ReceivedRecord.objects.count() == 1
