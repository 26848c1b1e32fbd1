"""The Ministry sync without a worker or a server: linking, a record's delivery and its retries, the
administrators' resets, and what is sent for each kind of ledger row. Tasks run eagerly; the portal's client
reaches the Ministry mock in this process (`ministry_in_process`). Runs on SQLite and PostgreSQL alike."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, DoctorProfile
from codes.format import generate_codes
from codes.models import IcpCode
from codes.services import code_activate
from credits.models import OutboxRecord
from credits.services import ledger_adjust, ledger_reverse
from ministry_mock.models import Faults, ReceivedRecord, Specialist, SpecialistCycle
from ministry_sync import services, tasks
from ministry_sync.models import MinistryLink
from nmo_portal.errors import PortalError

from ..factories import EventFactory, MembershipFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ministry_in_process")]

LOGIN = "petrov.ap"


@pytest.fixture
def at_the_ministry(doctor):
    """The doctor is registered at the Ministry under their СНИЛС, with a psychiatry cycle 2024–2028."""
    specialist = Specialist.objects.create(
        snils=doctor.doctor_profile.snils, login=LOGIN, full_name="Петров Андрей Павлович"
    )
    SpecialistCycle.objects.create(
        specialist=specialist, specialty_code="31.08.20", starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
    )
    return specialist


@pytest.fixture
def linked(doctor, at_the_ministry):
    return MinistryLink.objects.create(doctor=doctor, login=LOGIN, state=MinistryLink.State.LINKED)


@pytest.fixture
def event(psychiatry, cardiology):
    ends = timezone.now() - timedelta(days=1)
    return EventFactory(
        organization=MembershipFactory().organization,
        title="Школа молодого психиатра",
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[cardiology, psychiatry],
    )


@pytest.fixture
def credit(doctor, event):
    """A code credit of 6 for the event; its outbox row is written, nothing sent yet (on-commit not run)."""
    (raw,) = generate_codes(1)
    code = IcpCode.objects.create(code=raw, event=event)
    return code_activate(user=doctor, raw=code.code, ip=None)


@pytest.fixture
def ministry_fails():
    Faults.objects.update_or_create(pk=1, defaults={"failure_rate": 1.0})


def link(doctor, capture, login=LOGIN):
    with capture(execute=True):
        services.link_request(doctor=doctor, login=login)
    return MinistryLink.objects.get(doctor=doctor)


# Linking.


def test_a_doctor_the_ministry_knows_by_snils_and_login_is_linked_and_the_snils_confirmed(
    doctor, at_the_ministry, django_capture_on_commit_callbacks
):
    result = link(doctor, django_capture_on_commit_callbacks)

    assert result.state == MinistryLink.State.LINKED
    assert result.specialist_id == str(at_the_ministry.pk)
    assert result.cycles == [
        {
            "id": at_the_ministry.cycles.get().pk,
            "specialty_code": "31.08.20",
            "starts_on": "2024-01-01",
            "ends_on": "2028-12-31",
        }
    ]
    assert result.linked_at is not None
    assert (result.attempts, result.reason) == (1, "")
    assert DoctorProfile.objects.get(user=doctor).snils_confirmed_at is not None
    assert AuditEvent.objects.filter(action="ministry.link_request").count() == 1


def test_a_login_the_ministry_has_not_for_this_snils_fails_the_link_with_a_reason(
    doctor, at_the_ministry, django_capture_on_commit_callbacks
):
    result = link(doctor, django_capture_on_commit_callbacks, login="someone.else")

    assert result.state == MinistryLink.State.FAILED
    assert result.reason == "Логин не совпадает с тем, что указан на портале Минздрава для вашего СНИЛС."
    assert result.linked_at is None
    assert DoctorProfile.objects.get(user=doctor).snils_confirmed_at is None


def test_a_snils_the_ministry_does_not_know_fails_the_link_with_a_reason(doctor, django_capture_on_commit_callbacks):
    result = link(doctor, django_capture_on_commit_callbacks)

    assert result.state == MinistryLink.State.FAILED
    assert result.reason == (
        "На портале Минздрава нет специалиста с вашим СНИЛС. Проверьте СНИЛС в профиле и то, что вы "
        "зарегистрированы на edu.rosminzdrav.ru."
    )
    assert DoctorProfile.objects.get(user=doctor).snils_confirmed_at is None


def test_a_failed_link_may_be_asked_again_and_then_links(doctor, at_the_ministry, django_capture_on_commit_callbacks):
    assert link(doctor, django_capture_on_commit_callbacks, login="typo").state == MinistryLink.State.FAILED

    again = link(doctor, django_capture_on_commit_callbacks)

    assert again.state == MinistryLink.State.LINKED
    assert MinistryLink.objects.filter(doctor=doctor).count() == 1


@pytest.mark.parametrize("state", [MinistryLink.State.PENDING, MinistryLink.State.LINKED])
def test_a_doctor_linked_or_being_linked_is_refused_a_second_link(doctor, state):
    MinistryLink.objects.create(doctor=doctor, login=LOGIN, state=state)

    with pytest.raises(PortalError) as refused:
        services.link_request(doctor=doctor, login="another.login")

    assert refused.value.code == "already_linked"
    assert str(refused.value.message) == (
        "Ваш аккаунт уже привязан или привязывается; чтобы привязать его заново, обратитесь к администраторам."
    )
    assert list(MinistryLink.objects.filter(doctor=doctor).values_list("login", "state")) == [(LOGIN, state)]


def test_a_doctor_without_a_snils_is_refused_the_link_and_told_to_enter_it(doctor):
    DoctorProfile.objects.filter(user=doctor).update(snils=None)

    with pytest.raises(PortalError) as refused:
        services.link_request(doctor=doctor, login=LOGIN)

    assert refused.value.code == "snils_required"
    assert str(refused.value.message) == "Сначала укажите СНИЛС в профиле: по нему вас находит Минздрав."
    assert not MinistryLink.objects.exists()


def test_an_empty_login_is_refused(doctor):
    with pytest.raises(PortalError) as refused:
        services.link_request(doctor=doctor, login="   ")

    assert refused.value.code == "login_required"
    assert not MinistryLink.objects.exists()


def test_a_snils_removed_after_the_request_fails_the_link_without_asking_the_ministry(doctor, at_the_ministry):
    request = MinistryLink.objects.create(doctor=doctor, login=LOGIN)
    DoctorProfile.objects.filter(user=doctor).update(snils=None)

    result = services.link_perform(request.pk)

    assert result.state == MinistryLink.State.FAILED
    assert result.reason == "В вашем профиле больше нет СНИЛС: укажите его и свяжите учётную запись ещё раз."
    assert result.attempts == 0  # the Ministry was not asked


def test_a_ministry_that_does_not_answer_leaves_the_link_pending_to_be_tried_again(
    doctor, at_the_ministry, ministry_fails
):
    request = MinistryLink.objects.create(doctor=doctor, login=LOGIN)

    with pytest.raises(services.TransientError):
        services.link_perform(request.pk)

    request.refresh_from_db()
    assert request.state == MinistryLink.State.PENDING
    assert request.attempts == 1
    assert request.reason == "Портал Минздрава не ответил; мы продолжаем попытки."


def test_linking_sends_the_records_that_waited_for_it(
    doctor, at_the_ministry, credit, django_capture_on_commit_callbacks
):
    assert OutboxRecord.objects.get(entry=credit).state == OutboxRecord.State.PENDING

    link(doctor, django_capture_on_commit_callbacks)

    record = OutboxRecord.objects.get(entry=credit)
    assert record.state == OutboxRecord.State.DELIVERED
    assert list(ReceivedRecord.objects.values_list("specialist", "zet")) == [(at_the_ministry.pk, 6)]


# Delivery and retries.


def test_a_record_of_a_linked_doctor_is_delivered_once_with_the_ministrys_id(linked, credit):
    record = services.push_perform(OutboxRecord.objects.get(entry=credit).pk)

    received = ReceivedRecord.objects.get()
    assert record.state == OutboxRecord.State.DELIVERED
    assert record.ministry_record_id == str(received.pk)
    assert received.idempotency_key == str(record.idempotency_key)
    assert (record.attempts, record.last_error) == (1, "")
    assert record.delivered_at is not None


def test_a_record_of_a_doctor_not_linked_yet_waits_untouched(doctor, at_the_ministry, credit):
    before = OutboxRecord.objects.get(entry=credit)

    assert services.push_perform(before.pk) is None  # not even claimed: linking sends it

    record = OutboxRecord.objects.get(pk=before.pk)
    assert record.state == OutboxRecord.State.PENDING
    assert record.attempts == 0
    assert record.next_attempt_at == before.next_attempt_at
    assert not ReceivedRecord.objects.exists()


def test_a_failing_push_counts_the_attempt_and_schedules_the_next_after_the_backoff(
    linked, credit, ministry_fails, settings, monkeypatch
):
    settings.MINISTRY_RETRY_BASE_SECONDS = 10
    scheduled = []
    monkeypatch.setattr(tasks.push_credit_record, "apply_async", lambda **options: scheduled.append(options))
    outbox_id = OutboxRecord.objects.get(entry=credit).pk
    before = timezone.now()

    assert tasks.push_credit_record(outbox_id=outbox_id) == "pending"

    record = OutboxRecord.objects.get(pk=outbox_id)
    assert record.state == OutboxRecord.State.PENDING
    assert record.attempts == 1
    assert record.last_error.startswith("500 ")
    # the first backoff is 5 to 10 seconds (full jitter over half the base to the base)
    assert before + timedelta(seconds=5) <= record.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    assert scheduled == [{"kwargs": {"outbox_id": outbox_id}, "eta": record.next_attempt_at}]
    assert not ReceivedRecord.objects.exists()


def test_a_record_that_keeps_failing_is_given_up_after_the_last_attempt(linked, credit, ministry_fails, settings):
    settings.MINISTRY_MAX_ATTEMPTS = 3
    outbox_id = OutboxRecord.objects.get(entry=credit).pk

    for _ in range(3):
        OutboxRecord.objects.filter(pk=outbox_id).update(next_attempt_at=timezone.now())  # its backoff is over
        record = services.push_perform(outbox_id)

    assert record.state == OutboxRecord.State.FAILED
    assert record.attempts == 3
    assert record.last_error.startswith("500 ")
    assert services.push_perform(outbox_id) is None  # a failed record is not sent again by itself
    assert OutboxRecord.objects.get(pk=outbox_id).attempts == 3


def test_a_record_the_ministry_refuses_fails_at_once(linked, credit, at_the_ministry):
    at_the_ministry.delete()  # the Ministry no longer knows the СНИЛС: no use trying again

    record = services.push_perform(OutboxRecord.objects.get(entry=credit).pk)

    assert record.state == OutboxRecord.State.FAILED
    assert record.attempts == 1
    assert record.last_error.startswith("404 specialist_not_found ")
    assert not ReceivedRecord.objects.exists()


def test_a_record_not_due_yet_is_not_sent(linked, credit):
    outbox_id = OutboxRecord.objects.get(entry=credit).pk
    OutboxRecord.objects.filter(pk=outbox_id).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    assert services.push_perform(outbox_id) is None
    assert services.due_records() == []
    assert not ReceivedRecord.objects.exists()


def test_the_backoff_doubles_with_each_attempt_and_stops_at_an_hour(settings, monkeypatch):
    settings.MINISTRY_RETRY_BASE_SECONDS = 10
    monkeypatch.setattr(services.random, "uniform", lambda low, high: high)
    assert [services.backoff(n).total_seconds() for n in (0, 1, 2, 3, 4, 20)] == [10, 10, 20, 40, 80, 3600]
    monkeypatch.setattr(services.random, "uniform", lambda low, high: low)
    assert [services.backoff(n).total_seconds() for n in (1, 4, 20)] == [5, 40, 1800]


# The administrators' resets.


def test_an_administrator_sends_a_failed_record_again_and_it_is_delivered(
    linked, credit, django_capture_on_commit_callbacks
):
    OutboxRecord.objects.filter(entry=credit).update(
        state=OutboxRecord.State.FAILED, attempts=8, last_error="500 internal_error"
    )
    staff = StaffFactory()

    with django_capture_on_commit_callbacks(execute=True):
        reset = services.outbox_retry(record=OutboxRecord.objects.get(entry=credit), actor=staff)

    assert (reset.state, reset.attempts) == (OutboxRecord.State.PENDING, 0)
    record = OutboxRecord.objects.get(entry=credit)
    assert record.state == OutboxRecord.State.DELIVERED
    assert record.attempts == 1
    assert ReceivedRecord.objects.count() == 1
    assert list(AuditEvent.objects.filter(action="ministry.retry").values_list("actor", flat=True)) == [staff.pk]


def test_sending_again_a_record_that_has_not_failed_changes_nothing(linked, credit):
    record = services.push_perform(OutboxRecord.objects.get(entry=credit).pk)

    again = services.outbox_retry(record=record, actor=StaffFactory())

    assert (again.state, again.attempts) == (OutboxRecord.State.DELIVERED, 1)
    assert not AuditEvent.objects.filter(action="ministry.retry").exists()
    assert ReceivedRecord.objects.count() == 1


def test_the_admin_retry_action_resets_only_the_failed_records(
    admin_client, linked, credit, django_capture_on_commit_callbacks, ministry_fails
):
    OutboxRecord.objects.filter(entry=credit).update(state=OutboxRecord.State.FAILED, attempts=8)

    with django_capture_on_commit_callbacks(execute=False):  # the re-send itself is the task's business
        response = admin_client.post(
            "/admin/credits/outboxrecord/",
            {"action": "retry", "_selected_action": [OutboxRecord.objects.get(entry=credit).pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["Снова поставлено в очередь: 1."]
    record = OutboxRecord.objects.get(entry=credit)
    assert (record.state, record.attempts) == (OutboxRecord.State.PENDING, 0)


def test_relinking_removes_the_link_and_makes_the_snils_the_doctors_word_again(
    doctor, at_the_ministry, django_capture_on_commit_callbacks
):
    linked_now = link(doctor, django_capture_on_commit_callbacks)
    staff = StaffFactory()

    services.link_reset(link=linked_now, actor=staff)

    assert not MinistryLink.objects.filter(doctor=doctor).exists()
    assert DoctorProfile.objects.get(user=doctor).snils_confirmed_at is None
    assert AuditEvent.objects.filter(action="ministry.relink", actor=staff).count() == 1
    assert link(doctor, django_capture_on_commit_callbacks).state == MinistryLink.State.LINKED  # may link again


# What is sent for a ledger row.


def sent(entry):
    return services.payload(OutboxRecord.objects.get(entry=entry))


def test_a_code_credit_is_sent_as_an_education_element_under_the_doctors_specialty(doctor, event, credit):
    assert sent(credit) == {
        "snils": doctor.doctor_profile.snils,
        "specialty_code": "31.08.20",  # of the event's two specialties, the doctor's
        "kind": "educationElementZet",
        "zet": 6,
        "title": "Школа молодого психиатра",
        "earned_on": event.end_date.isoformat(),
        "source_ref": credit.source_object.code,
    }


def test_a_reversal_is_sent_as_the_same_record_with_negative_credits(doctor, event, credit):
    reversal = ledger_reverse(credit=credit, doctor=doctor, actor=None, comment="Код отозван")

    assert sent(reversal) == {
        "snils": doctor.doctor_profile.snils,
        "specialty_code": "31.08.20",
        "kind": "educationElementZet",
        "zet": -6,
        "title": "Школа молодого психиатра",
        "earned_on": event.end_date.isoformat(),
        "source_ref": credit.source_object.code,
    }


def test_an_adjustment_of_no_activity_is_sent_as_other_credits_with_its_reason_and_specialty(doctor, cardiology):
    adjustment = ledger_adjust(
        doctor=doctor, credits=-2, reason="Исправление ошибки оператора", actor=StaffFactory(), specialty=cardiology
    )

    assert sent(adjustment) == {
        "snils": doctor.doctor_profile.snils,
        "specialty_code": "31.08.36",
        "kind": "otherZet",
        "zet": -2,
        "title": "Исправление ошибки оператора",
        "earned_on": timezone.localdate().isoformat(),
        "source_ref": f"adjustment:{adjustment.pk}",
    }


def test_an_adjustment_of_an_event_is_sent_under_the_event_on_its_last_day(doctor, event):
    staff = StaffFactory()
    adjustment = ledger_adjust(doctor=doctor, credits=1, reason="Дополнительная секция", actor=staff, activity=event)

    assert sent(adjustment) == {
        "snils": doctor.doctor_profile.snils,
        "specialty_code": "31.08.20",
        "kind": "otherZet",
        "zet": 1,
        "title": "Школа молодого психиатра",
        "earned_on": event.end_date.isoformat(),
        "source_ref": f"adjustment:{adjustment.pk}",
    }


def test_in_the_demo_a_newcomer_is_linked_and_told_the_mock_registered_them(
    client, doctor, settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    settings.MINISTRY_MOCK_REGISTERS_NEWCOMERS = True
    client.force_login(doctor)
    plan = client.get(reverse("learning_plan:plan")).content.decode()
    assert "регистрирует нового специалиста" in plan
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "registers a new specialist" in client.get(reverse("learning_plan:plan")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    result = link(doctor, django_capture_on_commit_callbacks, login="novikova.ea")

    assert result.state == MinistryLink.State.LINKED
    assert "Демо" in result.reason
    assert Specialist.objects.get(snils=doctor.doctor_profile.snils).login == "novikova.ea"
    plan = client.get(reverse("learning_plan:plan")).content.decode()
    assert "зарегистрировал вас как нового специалиста" in plan  # stored as written, like a failure's reason


def test_without_debug_the_link_page_promises_no_registration(client, doctor):
    client.force_login(doctor)

    assert "data-demo-newcomers" not in client.get(reverse("learning_plan:plan")).content.decode()
