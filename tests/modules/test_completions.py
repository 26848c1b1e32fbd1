"""Module completions reported by providers through the API (session or API key), and what the provider learns."""

from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create, doctor_profile_update, snils_confirm
from credits.models import CreditEntry
from modules.models import ModuleCompletion
from modules.services import completion_report
from review.models import Status

from ..factories import MembershipFactory, ModuleFactory, UserFactory, make_snils
from .conftest import (
    UNREGISTERED_SNILS,
    completions_url,
    doctor_snils,
    payload,
    upload,
    wrong_control,
    yesterday,
)

# The API.


@pytest.mark.django_db
def test_the_same_completion_reported_twice_credits_once_and_the_repeat_answers_200(
    key_api, module, doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = key_api.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        again = key_api.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json")

    assert first.status_code == 201
    body = first.json()
    assert body["external_id"] == "lms-1"
    assert doctor.last_name not in first.content.decode()
    assert doctor.first_name not in first.content.decode()
    assert again.status_code == 200
    assert again.json() == body
    entry = CreditEntry.objects.get(doctor=doctor)
    assert entry.credits == 6
    assert (entry.activity_kind, entry.activity_id) == ("module", module.pk)
    assert entry.source == CreditEntry.Source.MODULE_COMPLETION
    assert [m.to for m in mail.outbox] == [[doctor.email]]


@pytest.mark.django_db
def test_a_completion_for_an_unregistered_snils_is_kept_and_credited_when_that_doctor_confirms_it(
    key_api, module, psychiatry, django_capture_on_commit_callbacks
):
    response = key_api.post(completions_url(module), payload(snils=UNREGISTERED_SNILS), format="json")

    assert response.status_code == 201
    assert not CreditEntry.objects.exists()

    newcomer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        doctor_profile_update(
            user=newcomer,
            last_name="Новикова",
            first_name="Анна",
            middle_name="Сергеевна",
            snils=UNREGISTERED_SNILS,
            specialties=[psychiatry],
        )
    assert not CreditEntry.objects.exists()  # a typed СНИЛС is the doctor's word until the Ministry confirms it
    with django_capture_on_commit_callbacks(execute=True):
        snils_confirm(user=newcomer, snils=UNREGISTERED_SNILS)

    entry = CreditEntry.objects.get()
    assert entry.doctor == newcomer
    assert entry.credits == 6
    assert entry.earned_on == yesterday().date()
    assert ModuleCompletion.objects.get().doctor == newcomer
    assert [m.to for m in mail.outbox] == [[newcomer.email]]
    listed = key_api.get(completions_url(module)).json()["results"]
    assert listed == [response.json()]  # what the provider sees did not change when the doctor was credited


@pytest.mark.django_db
def test_a_completion_by_email_is_credited_when_an_account_confirms_that_address(
    key_api, module, django_capture_on_commit_callbacks
):
    newcomer = UserFactory(email="new.doctor@example.org", confirmed=False)
    address = EmailAddress.objects.create(user=newcomer, email=newcomer.email, verified=False, primary=True)

    response = key_api.post(completions_url(module), payload(email="New.Doctor@example.org"), format="json")

    assert response.status_code == 201
    assert not CreditEntry.objects.exists()  # an unconfirmed address identifies nobody

    address.verified = True
    address.save()
    with django_capture_on_commit_callbacks(execute=True):
        email_confirmed.send(sender=EmailAddress, request=None, email_address=address)

    assert CreditEntry.objects.get().doctor == newcomer
    assert [m.to for m in mail.outbox] == [[newcomer.email]]


@pytest.mark.django_db
def test_the_same_doctor_under_two_completion_ids_is_credited_once(key_api, module, doctor):
    first = key_api.post(completions_url(module), payload("lms-1", snils=doctor_snils(doctor)), format="json")
    second = key_api.post(completions_url(module), payload("lms-2", email=doctor.email), format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert CreditEntry.objects.filter(doctor=doctor).count() == 1
    assert ModuleCompletion.objects.get(external_id="lms-1").doctor == doctor
    assert ModuleCompletion.objects.get(external_id="lms-2").doctor is None
    assert ModuleCompletion.objects.count() == 2


@pytest.mark.django_db
def test_an_api_key_of_another_organization_gets_404(module, doctor):
    other = MembershipFactory()
    _api_key, key = api_key_create(organization=other.organization, actor=other.user, name="Чужая СДО")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    posted = client.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json")
    listed = client.get(completions_url(module))

    assert posted.status_code == 404
    assert posted.json()["error"]["code"] == "not_found"
    assert listed.status_code == 404
    assert not ModuleCompletion.objects.exists()
    assert not CreditEntry.objects.exists()


@pytest.mark.django_db
def test_a_signed_in_member_reports_another_provider_gets_404_and_a_non_provider_403(module, membership, doctor):
    member = APIClient()
    member.force_login(membership.user)
    stranger = APIClient()
    stranger.force_login(MembershipFactory().user)
    not_staff = APIClient()
    not_staff.force_login(UserFactory())

    assert stranger.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json").status_code == 404
    assert not_staff.post(completions_url(module), payload(), format="json").status_code == 403
    response = member.post(completions_url(module), payload(snils=doctor_snils(doctor)), format="json")

    assert response.status_code == 201
    assert ModuleCompletion.objects.get().reported_by == membership.user
    assert APIClient().get(completions_url(module)).status_code == 401


@pytest.mark.django_db
def test_a_module_not_approved_refuses_completions(key_api, membership, doctor):
    draft = ModuleFactory(organization=membership.organization, status=Status.IN_REVIEW)

    response = key_api.post(completions_url(draft), payload(snils=doctor_snils(doctor)), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "module_not_approved"
    assert response.json()["error"]["message"]
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({}, "doctor_required"),
        ({"snils": wrong_control(UNREGISTERED_SNILS)}, "snils_invalid"),
        ({"external_id": " ", "snils": UNREGISTERED_SNILS}, "external_id_required"),
        (
            {"snils": UNREGISTERED_SNILS, "completed_at": (timezone.now() + timedelta(days=1)).isoformat()},
            "completed_in_future",
        ),
    ],
)
def test_a_refused_report_answers_with_its_stable_code_and_records_nothing(key_api, module, fields, code):
    response = key_api.post(completions_url(module), {**payload(), **fields}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
def test_a_malformed_body_is_a_400_with_the_fields(key_api, module):
    response = key_api.post(completions_url(module), {"snils": UNREGISTERED_SNILS, "completed_at": "вчера"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"external_id", "completed_at"}


@pytest.mark.django_db
def test_a_completion_time_without_an_offset_is_moscow_time(key_api, module):
    response = key_api.post(
        completions_url(module),
        {"external_id": "lms-7", "snils": UNREGISTERED_SNILS, "completed_at": "2025-01-15T10:00:00"},
        format="json",
    )

    assert response.status_code == 201
    assert ModuleCompletion.objects.get().completed_at == datetime(2025, 1, 15, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_the_list_is_paginated_newest_first_in_a_fixed_number_of_queries(
    key_api, module, doctor, django_assert_max_num_queries
):
    completion_report(
        module=module, actor=module.organization.memberships.get().user, external_id="a",
        completed_at=yesterday(), snils=doctor_snils(doctor),
    )  # fmt: skip
    for n in range(30):
        completion_report(
            module=module, actor=module.organization.memberships.get().user, external_id=f"b{n}",
            completed_at=yesterday(), snils=make_snils(810_000 + n),
        )  # fmt: skip

    with django_assert_max_num_queries(8):
        response = key_api.get(completions_url(module))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 31
    assert body["results"][0]["external_id"] == "b29"
    assert body["results"][-1]["external_id"] == "a"


# What the provider learns, and whom it may credit.


def _without_echo(body):
    """A completion as answered, without what the provider sent or the row's own id and time."""
    return {k: v for k, v in body.items() if k not in {"id", "external_id", "snils", "email", "reported_at"}}


@pytest.mark.django_db
def test_the_completion_api_answers_alike_for_a_known_and_an_unknown_doctor(key_api, module, doctor):
    known = key_api.post(completions_url(module), payload("k-1", snils=doctor_snils(doctor)), format="json")
    unknown = key_api.post(completions_url(module), payload("u-1", snils=UNREGISTERED_SNILS), format="json")
    known_by_email = key_api.post(completions_url(module), payload("k-2", email=doctor.email), format="json")
    unknown_by_email = key_api.post(completions_url(module), payload("u-2", email="nobody@example.org"), format="json")

    assert CreditEntry.objects.filter(doctor=doctor).count() == 1  # the known doctor was credited
    assert known.status_code == unknown.status_code == known_by_email.status_code == unknown_by_email.status_code
    assert _without_echo(known.json()) == _without_echo(unknown.json())
    assert _without_echo(known_by_email.json()) == _without_echo(unknown_by_email.json())
    listed = key_api.get(completions_url(module)).json()["results"]
    assert len({tuple(sorted(_without_echo(row))) for row in listed}) == 1


@pytest.mark.django_db
def test_the_upload_page_answers_alike_for_a_known_and_an_unknown_doctor(member_client, module, doctor):
    day = yesterday().strftime("%d.%m.%Y %H:%M")

    known = upload(
        member_client, module, f"external_id,snils,completed_at\nk-1,{doctor_snils(doctor)},{day}\n".encode()
    )
    known_page = member_client.get(known["Location"]).content.decode()
    unknown = upload(
        member_client, module, f"external_id,snils,completed_at\nu-1,{UNREGISTERED_SNILS},{day}\n".encode()
    )
    unknown_page = member_client.get(unknown["Location"]).content.decode()

    assert CreditEntry.objects.filter(doctor=doctor).count() == 1
    assert (known.status_code, unknown.status_code) == (302, 302)
    assert "Accepted: 1, already reported: 0." in known_page
    assert "Accepted: 1, already reported: 0." in unknown_page
    for phrase in ("credited at once", "Credited", "Waiting for the doctor", "already credited"):
        assert phrase not in unknown_page  # both rows are listed alike, without a state


@pytest.mark.django_db
def test_provider_staff_are_not_credited_by_email_for_their_own_organizations_module(
    key_api, module, membership, django_capture_on_commit_callbacks
):
    colleague = MembershipFactory(organization=membership.organization).user
    stranger_staff = MembershipFactory().user  # staff of another provider: a doctor like any other here

    own = key_api.post(completions_url(module), payload("s-1", email=membership.user.email), format="json")
    colleagues = key_api.post(completions_url(module), payload("s-2", email=colleague.email), format="json")
    others = key_api.post(completions_url(module), payload("s-3", email=stranger_staff.email), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        email_confirmed.send(
            sender=EmailAddress, request=None, email_address=EmailAddress.objects.get(user=membership.user)
        )

    assert (own.status_code, colleagues.status_code, others.status_code) == (201, 201, 201)
    assert _without_echo(own.json()) == _without_echo(others.json())  # the provider sees nothing different
    assert ModuleCompletion.objects.count() == 3  # kept
    assert not CreditEntry.objects.filter(doctor__in=[membership.user, colleague]).exists()
    assert CreditEntry.objects.get().doctor == stranger_staff


@pytest.mark.django_db
def test_an_uploaded_completion_in_the_year_731_is_refused_as_the_api_refuses_it(member_client, module, doctor):
    text = f"ID;СНИЛС;E-mail;Дата освоения\r\nc-1;{doctor_snils(doctor)};;01.05.0731 10:00\r\n"

    response = upload(member_client, module, text.encode("cp1251"))

    assert response.status_code == 400
    assert "Give a date from 2000-01-01 to 2099-12-31." in response.content.decode()
    assert not ModuleCompletion.objects.exists()
    assert not CreditEntry.objects.exists()
