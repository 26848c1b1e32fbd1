"""Activation as a doctor meets it: every outcome has its stable code and its own message."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from codes import services
from codes.format import format_code
from codes.models import IcpCode
from credits.api import CreditRecordSerializer
from credits.models import CreditEntry

from ..factories import DoctorProfileFactory, EventFactory, UserFactory

pytestmark = pytest.mark.django_db


def activate(client, code):
    return client.post(reverse("api:api-codes:activate"), {"code": code}, content_type="application/json")


def test_activation_credits_the_event_once_and_emails_the_doctor(
    client, doctor, ended_event, make_codes, mailoutbox, django_capture_on_commit_callbacks
):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    typed = format_code(code.code).lower().replace("-", " ")
    with django_capture_on_commit_callbacks(execute=True):
        response = activate(client, typed)
    assert response.status_code == 201, response.json()
    entry = CreditEntry.objects.get()
    assert response.json() == {
        "id": entry.pk,
        "kind": "credit",
        "source": "code",
        "credits": 12,
        "earned_on": ended_event.end_date.isoformat(),
        "event": {"id": ended_event.pk, "title": ended_event.title},
        "code": format_code(code.code),
        "created_at": timezone.localtime(entry.created_at).isoformat(),
    }
    assert set(response.json()) == set(CreditRecordSerializer().fields)  # the schema documents what is sent
    assert (entry.doctor, entry.kind, entry.credits, entry.activity_kind, entry.activity_id, entry.source_id) == (
        doctor,
        "credit",
        12,
        "event",
        ended_event.pk,
        code.pk,
    )
    assert entry.earned_on == ended_event.end_date
    code.refresh_from_db()
    assert code.status == IcpCode.Status.ACTIVATED
    assert code.activated_by == doctor
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    assert "12" in mailoutbox[0].body


def test_a_typo_is_reported_with_the_normalized_input_and_touches_nothing(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    wrong = code.code[:5] + ("1" if code.code[5] != "1" else "2") + code.code[6:]
    client.force_login(doctor)
    body = activate(client, wrong).json()["error"]
    assert body["code"] == "code_malformed"
    assert "опечатк" in body["message"].lower()
    assert body["normalized"] == wrong
    too_short = activate(client, "abcd-123").json()["error"]
    assert too_short["code"] == "code_malformed"
    assert too_short["normalized"] == "ABCD123"
    assert not CreditEntry.objects.exists()


def test_an_unknown_code_gets_the_wording_of_the_spec(client, doctor, ended_event):
    from codes.format import generate_code

    client.force_login(doctor)
    body = activate(client, generate_code()).json()["error"]
    assert body == {
        "code": "code_not_found",
        "message": "Код не был активирован. Возможно код неверен или уже был активирован ранее.",
    }


def test_a_second_try_by_the_same_doctor_says_when(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    activate(client, code.code)
    response = activate(client, code.code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_already_yours"
    assert CreditEntry.objects.count() == 1


def test_a_code_activated_by_another_account_offers_a_dispute(client, doctor, ended_event, make_codes, psychiatry):
    (code,) = make_codes(ended_event)
    other = DoctorProfileFactory(specialties=[psychiatry]).user
    services.code_activate(user=other, raw=code.code, ip=None)
    client.force_login(doctor)
    body = activate(client, code.code).json()["error"]
    assert body["code"] == "code_taken"
    assert body["dispute"] is True
    page = client.post(reverse("codes:activate"), {"code": code.code}).content.decode()
    assert reverse("codes:dispute_new") in page
    assert CreditEntry.objects.filter(doctor=doctor).count() == 0


def test_a_revoked_code_says_so(client, doctor, ended_event, make_codes, staff):
    (code,) = make_codes(ended_event)
    services.code_revoke(code=code, actor=staff, reason="Участник не присутствовал")
    client.force_login(doctor)
    assert activate(client, code.code).json()["error"]["code"] == "code_revoked"


def test_an_event_not_yet_ended_says_when_activation_opens(client, doctor, make_codes, psychiatry):
    event = EventFactory(
        approved=True, starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() + timedelta(hours=5)
    )
    (code,) = make_codes(event)
    client.force_login(doctor)
    body = activate(client, code.code).json()["error"]
    assert body["code"] == "event_not_finished"
    assert body["opens_at"] == event.ends_at.isoformat()
    opens = timezone.localtime(event.ends_at)
    assert f"{opens.hour}:{opens:%M}" in body["message"]  # Moscow time, as Russian formats write it (9:05)
    assert "(Europe/Moscow)" in body["message"]  # the zone is named: an event far east ends at another hour here


def test_the_unknown_code_message_is_spec_wording_in_russian_and_english_in_english(client, doctor):
    client.force_login(doctor)
    unknown = "0000-00000000"
    ru = activate(client, unknown).json()["error"]
    assert ru["message"] == "Код не был активирован. Возможно код неверен или уже был активирован ранее."
    en = client.post(
        reverse("api:api-codes:activate"),
        {"code": unknown},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    ).json()["error"]
    assert (en["code"], en["message"]) == (
        "code_not_found",
        "The code was not activated. Perhaps the code is wrong or it was activated before.",
    )


def test_one_credit_per_doctor_per_event(client, doctor, ended_event, make_codes):
    first, second = make_codes(ended_event, 2)
    client.force_login(doctor)
    activate(client, first.code)
    body = activate(client, second.code).json()["error"]
    assert body["code"] == "event_already_credited"
    second.refresh_from_db()
    assert second.status == IcpCode.Status.ISSUED  # still usable by its real holder
    assert CreditEntry.objects.count() == 1


def test_a_doctor_without_snils_or_confirmed_email_is_sent_to_the_profile(client, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    for user in (UserFactory(), DoctorProfileFactory(user__confirmed=False).user):
        client.force_login(user)
        response = activate(client, code.code)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "profile_incomplete"
    code.refresh_from_db()
    assert code.status == IcpCode.Status.ISSUED


def test_activation_runs_a_fixed_few_statements(client, doctor, ended_event_factory, django_assert_num_queries):
    """The evening after a congress runs on this path: the session, the user, then on PostgreSQL one statement
    that checks the profile and the code, claims it and writes the three rows (ledger, outbox, audit), in a
    SAVEPOINT within the test's transaction. SQLite's ORM path: the profile check, the code with its event, then
    SAVEPOINT, UPDATE, 3 INSERTs, RELEASE (test_activation_paths.py counts both on PostgreSQL)."""
    client.force_login(doctor)
    (_event, code) = ended_event_factory()
    with django_assert_num_queries(5 if connection.vendor == "postgresql" else 10):
        assert activate(client, code.code).status_code == 201


def test_a_profile_that_stops_being_complete_stops_activation_at_once(client, doctor, ended_event_factory):
    """The profile is read at every activation: a СНИЛС removed or an e-mail unconfirmed a moment ago counts,
    however it was changed."""
    client.force_login(doctor)
    (_first, first), (_second, second), (_third, third) = (ended_event_factory() for _ in range(3))
    assert activate(client, first.code).status_code == 201
    profile = doctor.doctor_profile
    snils = profile.snils
    profile.snils = None
    profile.save()
    response = activate(client, second.code)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "profile_incomplete"
    assert "СНИЛС" in response.json()["error"]["message"]
    second.refresh_from_db()
    assert second.status == IcpCode.Status.ISSUED

    profile.snils = snils
    profile.save()
    doctor.emailaddress_set.update(verified=False)  # around the models: no signal to rely on
    assert activate(client, third.code).json()["error"]["code"] == "profile_incomplete"
    assert CreditEntry.objects.filter(doctor=doctor).count() == 1


def test_activation_goes_on_while_the_cache_is_down(
    client, doctor, ended_event, make_codes, mailoutbox, settings, django_capture_on_commit_callbacks, caplog
):
    """SPEC: with Redis down activations keep working. The rate-limit counters live there: without them a
    failed attempt is not counted (logged instead), and every activation is still checked as usual."""
    from codes.format import generate_code

    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    settings.CACHES = {
        "default": {
            "BACKEND": "nmo_portal.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    assert activate(client, generate_code()).json()["error"]["code"] == "code_not_found"
    with django_capture_on_commit_callbacks(execute=True):
        response = activate(client, code.code)
    assert response.status_code == 201, response.json()
    assert CreditEntry.objects.get().source_id == code.pk
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    assert "Redis cache unavailable" in caplog.text


def test_failed_attempts_are_limited_per_account_and_say_when_to_try_again(
    client, doctor, ended_event, make_codes, settings
):
    from codes.format import generate_code

    settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT = 3
    (good,) = make_codes(ended_event)
    client.force_login(doctor)
    for _ in range(3):
        assert activate(client, generate_code()).json()["error"]["code"] == "code_not_found"
    response = activate(client, good.code)  # even a good code waits: the account is locked out for now
    assert response.status_code == 429
    body = response.json()["error"]
    assert body["code"] == "too_many_attempts"
    assert "retry_at" in body
    good.refresh_from_db()
    assert good.status == IcpCode.Status.ISSUED


def test_failed_attempts_are_limited_per_ip_across_accounts(client, ended_event, settings, psychiatry):
    from codes.format import generate_code

    settings.ICP_FAILED_ATTEMPTS_PER_IP = 4
    for _ in range(2):
        client.force_login(DoctorProfileFactory(specialties=[psychiatry]).user)
        for _ in range(2):
            activate(client, generate_code())
    client.force_login(DoctorProfileFactory(specialties=[psychiatry]).user)
    assert activate(client, generate_code()).json()["error"]["code"] == "too_many_attempts"
    other_ip = client.post(
        reverse("api:api-codes:activate"),
        {"code": generate_code()},
        content_type="application/json",
        REMOTE_ADDR="10.1.2.3",
    )
    assert other_ip.json()["error"]["code"] == "code_not_found"


def test_codes_of_an_unapproved_event_are_unknown(client, doctor, make_codes):
    event = EventFactory(starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=1))
    (code,) = make_codes(event)
    client.force_login(doctor)
    assert activate(client, code.code).json()["error"]["code"] == "code_not_found"


def test_an_organization_api_key_cannot_activate(client, ended_event, make_codes):
    from accounts.services import api_key_create

    owner = ended_event.organization.memberships.get().user
    _key, secret = api_key_create(organization=ended_event.organization, actor=owner, name="LMS")
    (code,) = make_codes(ended_event)
    response = client.post(
        reverse("api:api-codes:activate"),
        {"code": code.code},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {secret}",
    )
    assert response.status_code == 403
    code.refresh_from_db()
    assert code.status == IcpCode.Status.ISSUED


def test_the_browser_page_shows_the_credit_after_activation(client, doctor, ended_event, make_codes):
    (code,) = make_codes(ended_event)
    client.force_login(doctor)
    response = client.post(reverse("codes:activate"), {"code": format_code(code.code)}, follow=True)
    page = response.content.decode()
    assert ended_event.title in page
    assert "message-success" in page
