"""The records the Ministry holds for a doctor, read back over its API for the portfolio's education table: what
the portal sent itself counts once, what the Ministry got elsewhere is shown as the Ministry's, reversals net
out, and a Ministry that is down or answers too much leaves the last reading as it was. Tasks run eagerly; the
portal's client reaches the mock in this process (`ministry_in_process`), and one test over real HTTP."""

from datetime import date, timedelta

import pytest
from celery.exceptions import Retry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, DoctorProfile
from codes.format import generate_codes
from codes.models import IcpCode
from codes.services import code_activate
from credits.models import OutboxRecord
from credits.services import ledger_reverse
from learning_plan.education import education_items
from ministry_mock.models import Faults, ReceivedRecord, Specialist, SpecialistCycle
from ministry_sync import client as ministry_client
from ministry_sync import services, tasks
from ministry_sync.models import HeldRecord, MinistryLink
from ministry_sync.selectors import held_records_read_at, ministry_linked
from nmo_portal.errors import PortalError

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, StaffFactory
from .conftest import in_process_call

LOGIN = "petrov.ap"
PSYCHIATRY, CARDIOLOGY = "31.08.20", "31.08.36"
REFRESH_URL = "/me/ministry/records/refresh/"


def period():
    """The portfolio's five years, around today: the event below ended yesterday."""
    today = timezone.localdate()
    return today - timedelta(days=3 * 365), today + timedelta(days=2 * 365)


def table(doctor, specialty):
    return [(item.origin, item.title, item.hours) for item in education_items(doctor, specialty, *period())]


def ministry_records(snils, key, **overrides):
    """A record the Ministry got from someone else than the portal (a programme's organization, ФРМР), posted to
    the mock over its API."""
    body = {
        "snils": snils,
        "specialty_code": PSYCHIATRY,
        "kind": "trainingProgrammeZet",
        "zet": 36,
        "title": "Психиатрия: неотложные состояния",
        "earned_on": (timezone.localdate() - timedelta(days=200)).isoformat(),
        "source_ref": "Удостоверение 772412345678",
        **overrides,
    }
    answer = in_process_call("POST", "records", body, headers={"Idempotency-Key": key})
    assert answer.status in (200, 201), answer.body
    return answer


@pytest.fixture
def at_the_ministry(doctor):
    specialist = Specialist.objects.create(snils=doctor.doctor_profile.snils, login=LOGIN, full_name="Петров А. П.")
    SpecialistCycle.objects.create(
        specialist=specialist, specialty_code=PSYCHIATRY, starts_on=date(2024, 1, 1), ends_on=date(2028, 12, 31)
    )
    return specialist


@pytest.fixture
def linked(doctor, at_the_ministry):
    return MinistryLink.objects.create(doctor=doctor, login=LOGIN, state=MinistryLink.State.LINKED)


@pytest.fixture
def event(psychiatry):
    ends = timezone.now() - timedelta(days=1)
    return EventFactory(
        organization=MembershipFactory().organization,
        title="Школа молодого психиатра",
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )


@pytest.fixture
def delivered_credit(doctor, linked, event):
    """A code credit of 6 the portal has sent to the Ministry."""
    (raw,) = generate_codes(1)
    credit = code_activate(user=doctor, raw=IcpCode.objects.create(code=raw, event=event).code, ip=None)
    record = services.push_perform(OutboxRecord.objects.get(entry=credit).pk)
    assert record is not None
    assert record.state == OutboxRecord.State.DELIVERED
    return credit


@pytest.fixture
def ministry_calls(monkeypatch):
    """Every request the portal's client makes, in order, still answered by the mock."""
    calls = []

    def call(method, path, payload=None, headers=None, *, max_bytes=None):
        calls.append((method, path))
        return in_process_call(method, path, payload, headers, max_bytes=max_bytes)

    monkeypatch.setattr(ministry_client, "call", call)
    return calls


def set_down(down=True):
    Faults.objects.update_or_create(pk=1, defaults={"down": down})


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ministry_in_process")]


# The education table.


def test_a_record_the_portal_sent_is_held_but_counts_once_in_the_education_table(doctor, psychiatry, delivered_credit):
    assert services.held_records_refresh(doctor.pk) == 1

    held = HeldRecord.objects.get(doctor=doctor)
    assert held.idempotency_key == str(OutboxRecord.objects.get(entry=delivered_credit).idempotency_key)
    assert (held.kind, held.hours, held.specialty_code) == ("educationElementZet", 6, PSYCHIATRY)
    assert table(doctor, psychiatry) == [("register", "Школа молодого психиатра", 6)]


def test_a_programme_the_ministry_got_elsewhere_is_in_the_table_as_the_ministrys(doctor, psychiatry, delivered_credit):
    ministry_records(doctor.doctor_profile.snils, "frmr-2024-0001")

    assert services.held_records_refresh(doctor.pk) == 2

    items = education_items(doctor, psychiatry, *period())
    assert sorted((item.origin, item.kind, item.title, item.hours) for item in items) == [
        ("ministry", "programme", "Психиатрия: неотложные состояния", 36),
        ("register", "event", "Школа молодого психиатра", 6),
    ]
    (programme,) = [item for item in items if item.origin == "ministry"]
    assert programme.reference == "Удостоверение 772412345678"


def test_a_reversal_the_ministry_holds_takes_its_record_out_of_the_table_even_when_dated_later(
    doctor, psychiatry, linked
):
    snils = doctor.doctor_profile.snils
    ministry_records(snils, "frmr-1")
    after_the_period = (period()[1] + timedelta(days=30)).isoformat()
    ministry_records(snils, "frmr-2", zet=-36, title="Аннулирование", earned_on=after_the_period)
    ministry_records(snils, "frmr-3", source_ref="Удостоверение 2", title="Психотерапия", zet=18)
    ministry_records(snils, "frmr-4", source_ref="Удостоверение 2", title="Частичная отмена", zet=-6)

    assert services.held_records_refresh(doctor.pk) == 4

    assert table(doctor, psychiatry) == [("ministry", "Психотерапия", 12)]


def test_two_standing_records_of_one_reference_are_both_in_the_table(doctor, psychiatry, linked):
    snils = doctor.doctor_profile.snils
    ministry_records(snils, "frmr-part-1", title="Часть 1", zet=36, source_ref="Удостоверение 5")
    ministry_records(snils, "frmr-part-2", title="Часть 2", zet=36, source_ref="Удостоверение 5")

    services.held_records_refresh(doctor.pk)

    assert sorted(table(doctor, psychiatry)) == [("ministry", "Часть 1", 36), ("ministry", "Часть 2", 36)]


def test_a_credit_the_portal_reversed_is_in_the_table_neither_from_the_register_nor_from_the_ministry(
    doctor, psychiatry, delivered_credit
):
    reversal = ledger_reverse(credit=delivered_credit, doctor=doctor, actor=None, comment="Код отозван")
    services.push_perform(OutboxRecord.objects.get(entry=reversal).pk)
    assert sorted(ReceivedRecord.objects.values_list("zet", flat=True)) == [-6, 6]

    services.held_records_refresh(doctor.pk)

    assert HeldRecord.objects.filter(doctor=doctor).count() == 2
    assert table(doctor, psychiatry) == []


def test_a_record_of_another_specialty_is_only_in_that_specialtys_table(doctor, psychiatry, cardiology, linked):
    ministry_records(doctor.doctor_profile.snils, "frmr-cardio", specialty_code=CARDIOLOGY, title="Кардиология")

    services.held_records_refresh(doctor.pk)

    assert table(doctor, psychiatry) == []
    assert table(doctor, cardiology) == [("ministry", "Кардиология", 36)]


def test_a_record_outside_the_period_is_not_in_the_table(doctor, psychiatry, linked):
    before = (period()[0] - timedelta(days=1)).isoformat()
    ministry_records(doctor.doctor_profile.snils, "frmr-old", earned_on=before, title="Старая программа")

    services.held_records_refresh(doctor.pk)

    assert HeldRecord.objects.filter(doctor=doctor).count() == 1
    assert table(doctor, psychiatry) == []


def test_another_doctors_held_records_are_not_in_the_table(doctor, psychiatry, linked):
    other = DoctorProfileFactory(specialties=[psychiatry]).user
    HeldRecord.objects.create(
        doctor=other,
        idempotency_key="theirs",
        kind=HeldRecord.Kind.PROGRAMME,
        hours=36,
        title="Чужая программа",
        earned_on=timezone.localdate(),
        specialty_code=PSYCHIATRY,
    )

    assert table(doctor, psychiatry) == []
    assert table(other, psychiatry) == [("ministry", "Чужая программа", 36)]


# Reading: replace, bound, keep on failure.


def test_a_reading_replaces_the_rows_updating_those_still_listed_and_deleting_the_others(doctor, linked):
    snils = doctor.doctor_profile.snils
    ministry_records(snils, "stays")
    ministry_records(snils, "goes", title="Исчезнет")
    services.held_records_refresh(doctor.pk)
    stays_id = HeldRecord.objects.get(idempotency_key="stays").pk
    ReceivedRecord.objects.filter(idempotency_key="stays").update(title="Новое название", zet=72)
    ReceivedRecord.objects.filter(idempotency_key="goes").delete()
    ministry_records(snils, "new", title="Новая")

    assert services.held_records_refresh(doctor.pk) == 2

    rows = {row.idempotency_key: row for row in HeldRecord.objects.filter(doctor=doctor)}
    assert set(rows) == {"stays", "new"}
    assert (rows["stays"].pk, rows["stays"].title, rows["stays"].hours) == (stays_id, "Новое название", 72)
    assert held_records_read_at(doctor) == rows["new"].fetched_at == rows["stays"].fetched_at


def test_a_ministry_that_holds_nothing_leaves_no_rows_and_says_when_it_was_read(doctor, linked):
    HeldRecord.objects.create(
        doctor=doctor, idempotency_key="gone", kind="otherZet", hours=1, title="t", earned_on=date(2025, 1, 1)
    )
    assert held_records_read_at(doctor) is None

    assert services.held_records_refresh(doctor.pk) == 0

    assert not HeldRecord.objects.filter(doctor=doctor).exists()
    assert held_records_read_at(doctor) is not None
    event = AuditEvent.objects.get(action="ministry.held_records_refresh")
    assert event.details == {"records": 0, "skipped": 0}


def test_the_ministry_down_keeps_the_last_reading_and_asks_for_another_try(doctor, linked):
    ministry_records(doctor.doctor_profile.snils, "kept")
    services.held_records_refresh(doctor.pk)
    read_at = held_records_read_at(doctor)
    ReceivedRecord.objects.all().delete()  # were it read now, the row would go
    set_down()

    with pytest.raises(services.TransientError):
        services.held_records_refresh(doctor.pk)

    assert list(HeldRecord.objects.filter(doctor=doctor).values_list("idempotency_key", flat=True)) == ["kept"]
    assert held_records_read_at(doctor) == read_at


def test_the_task_tries_again_later_while_the_ministry_is_down_and_gives_up_after_the_last_attempt(
    doctor, linked, settings
):
    settings.MINISTRY_MAX_ATTEMPTS = 3
    settings.MINISTRY_RETRY_BASE_SECONDS = 10
    ministry_records(doctor.doctor_profile.snils, "kept")
    services.held_records_refresh(doctor.pk)
    ReceivedRecord.objects.all().delete()  # the next reading that gets through removes the row
    set_down()

    with pytest.raises(Retry) as again:  # the first attempt and the second are tried again after a backoff
        tasks.refresh_held_records.apply(kwargs={"doctor_id": doctor.pk}, retries=1)
    assert 10 <= again.value.when <= 20

    assert tasks.refresh_held_records.apply(kwargs={"doctor_id": doctor.pk}, retries=2).get() is None  # the third

    assert HeldRecord.objects.filter(doctor=doctor).count() == 1
    set_down(False)
    assert tasks.refresh_held_records.apply(kwargs={"doctor_id": doctor.pk}).get() == 0
    assert not HeldRecord.objects.filter(doctor=doctor).exists()


def test_more_records_than_the_bound_are_refused_and_the_last_reading_kept(doctor, linked, settings):
    snils = doctor.doctor_profile.snils
    ministry_records(snils, "first")
    services.held_records_refresh(doctor.pk)
    read_at = held_records_read_at(doctor)
    for key in ("second", "third"):
        ministry_records(snils, key)
    settings.MINISTRY_HELD_RECORDS_MAX = 2

    with pytest.raises(services.HeldRecordsRefused):
        services.held_records_refresh(doctor.pk)

    assert list(HeldRecord.objects.filter(doctor=doctor).values_list("idempotency_key", flat=True)) == ["first"]
    assert held_records_read_at(doctor) == read_at
    assert tasks.refresh_held_records.apply(kwargs={"doctor_id": doctor.pk}).get() is None  # no retry either


def test_an_answer_longer_than_the_bound_is_not_parsed(doctor, linked, settings, monkeypatch):
    settings.MINISTRY_HELD_RECORDS_MAX = 1
    monkeypatch.setattr(services, "HELD_RECORD_MAX_BYTES", 20)  # an answer of more than 340 bytes is too long
    ministry_records(doctor.doctor_profile.snils, "k" * 100, title="Т" * 300)

    with pytest.raises(services.HeldRecordsRefused):
        services.held_records_refresh(doctor.pk)

    assert not HeldRecord.objects.exists()
    assert held_records_read_at(doctor) is None


def test_a_record_that_cannot_be_read_is_left_out_and_long_texts_are_clipped(doctor, linked, monkeypatch):
    good = {
        "idempotency_key": "ok",
        "kind": "iomZet",
        "zet": 2,
        "title": "Т" * 600 + "\x00",
        "earned_on": "2025-03-01",
        "specialty_code": PSYCHIATRY,
        "source_ref": "r" * 300,
    }
    answer = {
        "records": [
            good,
            {**good, "title": "повтор того же ключа"},
            {**good, "idempotency_key": "k" * 201},
            {**good, "idempotency_key": "nul\x00"},
            {**good, "idempotency_key": ""},
            {**good, "idempotency_key": "bool", "zet": True},
            {**good, "idempotency_key": "huge", "zet": 100_000},
            {**good, "idempotency_key": "text", "zet": "2"},
            {**good, "idempotency_key": "kind", "kind": "bonusZet"},
            {**good, "idempotency_key": "date", "earned_on": "01.03.2025"},
            {**good, "idempotency_key": "no-date", "earned_on": None},
            "not a record",
        ]
    }
    monkeypatch.setattr(ministry_client, "call", lambda *args, **kwargs: ministry_client.Answer(200, answer))

    assert services.held_records_refresh(doctor.pk) == 1

    row = HeldRecord.objects.get(doctor=doctor)
    assert (row.idempotency_key, row.hours, row.earned_on) == ("ok", 2, date(2025, 3, 1))
    assert (row.title, row.source_ref) == ("Т" * 500, "r" * 200)
    assert AuditEvent.objects.get(action="ministry.held_records_refresh").details == {"records": 1, "skipped": 11}


@pytest.mark.parametrize("body", [{}, {"records": {"a": 1}}, {"records": "none"}])
def test_an_answer_without_a_list_of_records_is_refused(doctor, linked, monkeypatch, body):
    monkeypatch.setattr(ministry_client, "call", lambda *args, **kwargs: ministry_client.Answer(200, body))

    with pytest.raises(services.HeldRecordsRefused):
        services.held_records_refresh(doctor.pk)

    assert held_records_read_at(doctor) is None


def test_a_snils_the_ministry_no_longer_knows_keeps_the_last_reading(doctor, linked, at_the_ministry):
    ministry_records(doctor.doctor_profile.snils, "kept")
    services.held_records_refresh(doctor.pk)
    at_the_ministry.delete()

    with pytest.raises(services.HeldRecordsRefused):
        services.held_records_refresh(doctor.pk)

    assert HeldRecord.objects.filter(doctor=doctor).count() == 1


# Who is read.


@pytest.mark.parametrize("state", [None, MinistryLink.State.PENDING, MinistryLink.State.FAILED])
def test_a_doctor_without_a_linked_account_gets_nothing_read(doctor, at_the_ministry, ministry_calls, state):
    if state is not None:
        MinistryLink.objects.create(doctor=doctor, login=LOGIN, state=state)
    ministry_records(doctor.doctor_profile.snils, "theirs")
    ministry_calls.clear()

    assert services.held_records_refresh(doctor.pk) is None

    assert ministry_calls == []
    assert not HeldRecord.objects.exists()
    assert held_records_read_at(doctor) is None
    assert not ministry_linked(doctor)
    with pytest.raises(PortalError) as refused:
        services.held_records_request(doctor=doctor)
    assert refused.value.code == "ministry_not_linked"


def test_a_linked_doctor_without_a_snils_gets_nothing_read(doctor, linked, ministry_calls):
    DoctorProfile.objects.filter(user=doctor).update(snils=None)

    assert services.held_records_refresh(doctor.pk) is None

    assert ministry_calls == []


def test_a_successful_link_reads_what_the_ministry_holds(
    doctor, psychiatry, at_the_ministry, django_capture_on_commit_callbacks
):
    ministry_records(doctor.doctor_profile.snils, "frmr-1")

    with django_capture_on_commit_callbacks(execute=True):
        services.link_request(doctor=doctor, login=LOGIN)

    assert MinistryLink.objects.get(doctor=doctor).state == MinistryLink.State.LINKED
    assert table(doctor, psychiatry) == [("ministry", "Психиатрия: неотложные состояния", 36)]
    assert held_records_read_at(doctor) is not None
    with pytest.raises(PortalError) as refused:  # the link's reading counts as the doctor's request
        services.held_records_request(doctor=doctor)
    assert refused.value.code == "ministry_refresh_too_soon"


def test_relinking_forgets_what_was_read_under_the_old_link(doctor, linked):
    ministry_records(doctor.doctor_profile.snils, "frmr-1")
    services.held_records_refresh(doctor.pk)

    services.link_reset(link=linked, actor=StaffFactory())

    assert not HeldRecord.objects.filter(doctor=doctor).exists()
    assert held_records_read_at(doctor) is None


# Asking for a reading: the service and the page's button.


def test_a_request_queues_one_reading_on_commit_and_another_only_minutes_later(
    doctor, linked, settings, django_capture_on_commit_callbacks
):
    settings.MINISTRY_HELD_REFRESH_MINUTES = 10
    ministry_records(doctor.doctor_profile.snils, "frmr-1")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        services.held_records_request(doctor=doctor)
        with pytest.raises(PortalError) as refused:
            services.held_records_request(doctor=doctor)

    assert len(queued) == 1
    assert not HeldRecord.objects.exists()  # nothing before commit
    queued[0]()
    assert HeldRecord.objects.filter(doctor=doctor).count() == 1
    assert refused.value.code == "ministry_refresh_too_soon"
    assert refused.value.status == 429
    assert str(refused.value.message) == (
        "Ваши записи запрашивались несколько минут назад; попробуйте снова через 10 минут."
    )
    assert AuditEvent.objects.filter(action="ministry.held_records_request", actor=doctor).count() == 1


def test_the_button_reads_the_records_and_goes_back_to_the_page_it_was_pressed_on(
    client, doctor, linked, django_capture_on_commit_callbacks
):
    ministry_records(doctor.doctor_profile.snils, "frmr-1")
    client.force_login(doctor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REFRESH_URL, {"next": "/me/portfolio/31.08.20/"}, follow=False)

    assert response.status_code == 302
    assert response["Location"] == "/me/portfolio/31.08.20/"
    assert HeldRecord.objects.filter(doctor=doctor).count() == 1
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Читаем ваши записи на портале Минздрава; обновите страницу через минуту."]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", ""])
def test_the_button_never_sends_the_doctor_to_another_site(client, doctor, linked, target):
    client.force_login(doctor)

    response = client.post(REFRESH_URL, {"next": target})

    assert response.status_code == 302
    assert response["Location"] == reverse("learning_plan:plan")


def test_the_button_pressed_again_at_once_says_so_and_reads_nothing_more(
    client, doctor, linked, ministry_calls, django_capture_on_commit_callbacks
):
    client.force_login(doctor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REFRESH_URL)
    ministry_calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REFRESH_URL, follow=True)

    assert ministry_calls == []
    assert "Ваши записи запрашивались несколько минут назад" in response.content.decode()


def test_the_button_of_a_doctor_not_linked_tells_them_to_link_first(client, doctor, ministry_calls):
    client.force_login(doctor)

    response = client.post(REFRESH_URL, follow=True)

    assert ministry_calls == []
    assert "Сначала привяжите аккаунт на портале Минздрава" in response.content.decode()


def test_the_button_needs_a_signed_in_doctor_a_post_and_the_csrf_token(client, doctor, linked, ministry_calls):
    response = client.post(REFRESH_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))

    client.force_login(doctor)
    assert client.get(REFRESH_URL).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(doctor)
    assert strict.post(REFRESH_URL).status_code == 403

    assert ministry_calls == []
    assert not AuditEvent.objects.filter(action="ministry.held_records_request").exists()


# Administrators.


def test_administrators_find_held_records_by_the_doctors_email_and_cannot_change_them(admin_client, doctor, linked):
    ministry_records(doctor.doctor_profile.snils, "frmr-1")
    services.held_records_refresh(doctor.pk)
    other = DoctorProfileFactory().user
    HeldRecord.objects.create(
        doctor=other, idempotency_key="x", kind="otherZet", hours=1, title="Чужая запись", earned_on=date(2025, 1, 1)
    )
    row = HeldRecord.objects.get(doctor=doctor)

    listing = admin_client.get("/admin/ministry_sync/heldrecord/", {"q": doctor.email})

    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Психиатрия: неотложные состояния" in page
    assert "Чужая запись" not in page
    assert admin_client.get("/admin/ministry_sync/heldrecord/add/").status_code == 403
    assert admin_client.post(f"/admin/ministry_sync/heldrecord/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert HeldRecord.objects.filter(pk=row.pk).exists()
