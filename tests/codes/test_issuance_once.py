"""Issuance through every door: the page and the API call one service, which issues a person one code of an
event unless the provider explicitly asks again."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from codes import issuance, services
from codes.attendees import Attendee, read_attendee_rows, read_attendees
from codes.models import IcpCode, IssuanceBatch

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, make_snils

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(psychiatry):
    """An approved event that ended yesterday."""
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


def provider_of(event):
    return event.organization.memberships.get().user


def people(n, start=0):
    return [
        {"full_name": f"Участник {i}", "email": f"person{i}@example.org", "snils": make_snils(900 + i)}
        for i in range(start, start + n)
    ]


def csv_of(rows):
    lines = ["ФИО;E-mail;СНИЛС"] + [f"{r['full_name']};{r['email']};{r['snils']}" for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def upload(client, event, rows, **extra):
    return client.post(
        reverse("codes:issue_file", args=[event.pk]),
        {"file": SimpleUploadedFile("list.csv", csv_of(rows)), **extra},
    )


def api_issue(client, event, body):
    return client.post(reverse("api:api-codes:event-codes", args=[event.pk]), body, content_type="application/json")


def test_api_issues_nothing_twice_to_the_same_list(client, event):
    client.force_login(provider_of(event))
    first = api_issue(client, event, {"attendees": people(3)})
    assert first.status_code == 201, first.json()
    again = api_issue(client, event, {"attendees": people(3)})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "codes_already_held"
    assert {p["email"] for p in again.json()["error"]["skipped"]} == {p["email"] for p in people(3)}
    assert IcpCode.objects.count() == 3
    assert IssuanceBatch.objects.count() == 1


@pytest.mark.parametrize("lookup_limit", [500, 0], ids=["looked-up-by-the-list", "read-from-the-event"])
def test_a_grown_list_issues_only_the_new_people_and_lists_the_skipped_in_the_api(
    client, event, monkeypatch, lookup_limit
):
    monkeypatch.setattr(issuance, "HOLDERS_LOOKUP_LIMIT", lookup_limit)
    client.force_login(provider_of(event))
    api_issue(client, event, {"attendees": people(3)})
    response = api_issue(client, event, {"attendees": people(5)})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["issued"] == 2
    assert sorted(p["email"] for p in body["skipped"]) == [f"person{i}@example.org" for i in range(3)]
    assert IcpCode.objects.count() == 5
    assert sorted(IcpCode.objects.values_list("holder_email", flat=True)) == sorted(p["email"] for p in people(5))


def test_a_grown_list_on_the_page_issues_only_the_new_people_and_names_the_skipped(client, event):
    client.force_login(provider_of(event))
    upload(client, event, people(2))
    response = upload(client, event, people(3))
    page = client.get(response["Location"]).content.decode()
    assert "Выпущено кодов: 1." in page
    assert "person0@example.org" in page
    assert "person1@example.org" in page
    assert IcpCode.objects.count() == 3
    batch = IssuanceBatch.objects.order_by("-id").first()
    assert batch.skipped_count == 2


def test_a_holder_is_recognised_by_snils_under_another_email(client, event):
    client.force_login(provider_of(event))
    api_issue(client, event, {"attendees": people(1)})
    same_person = [{**people(1)[0], "email": "new-address@example.org"}]
    response = api_issue(client, event, {"attendees": same_person})
    assert response.status_code == 409
    assert IcpCode.objects.count() == 1


def test_a_revoked_code_is_not_held(client, event):
    client.force_login(provider_of(event))
    api_issue(client, event, {"attendees": people(1)})
    services.code_revoke(code=IcpCode.objects.get(), actor=provider_of(event), reason="Ошибка в ФИО")
    response = api_issue(client, event, {"attendees": people(1)})
    assert response.status_code == 201
    assert IcpCode.objects.filter(status=IcpCode.Status.ISSUED).count() == 1


def test_reissue_issues_again_to_holders_through_the_page_and_the_api(client, event):
    client.force_login(provider_of(event))
    api_issue(client, event, {"attendees": people(2)})
    response = api_issue(client, event, {"attendees": people(2), "reissue": True})
    assert response.status_code == 201
    assert response.json()["skipped"] == []
    assert IcpCode.objects.count() == 4
    upload(client, event, people(2), issue_again="on")
    assert IcpCode.objects.count() == 6


def test_attendees_of_a_list_still_being_written_count_as_holders(
    client, event, settings, django_capture_on_commit_callbacks
):
    """A large list is written by a task after commit: until then its people hold no code row yet."""
    settings.ICP_SYNC_ISSUE_LIMIT = 2
    client.force_login(provider_of(event))
    with django_capture_on_commit_callbacks(execute=False):
        queued = api_issue(client, event, {"attendees": people(4)})
    assert queued.status_code == 202
    assert not IcpCode.objects.exists()  # the task has not run
    response = api_issue(client, event, {"attendees": people(5)})
    assert response.status_code == 201
    assert response.json()["issued"] == 1
    assert len(response.json()["skipped"]) == 4


def test_page_and_api_refuse_an_all_held_list_with_the_same_code_and_message(client, event):
    client.force_login(provider_of(event))
    api_issue(client, event, {"attendees": people(2)})
    api_error = api_issue(client, event, {"attendees": people(2)}).json()["error"]
    with pytest.raises(issuance.IssuanceRefused) as refused:
        issuance.codes_issue(
            event=event,
            actor=provider_of(event),
            attendees=read_attendees(csv_of(people(2)), "list.csv").attendees,
        )
    assert (refused.value.code, str(refused.value.message)) == (api_error["code"], api_error["message"])
    response = upload(client, event, people(2))
    text = client.get(response["Location"]).content.decode()
    assert api_error["message"].split(" (")[0] in text
    assert "person0@example.org" in text
    assert IcpCode.objects.count() == 2


def test_page_and_api_report_a_repeated_snils_with_the_same_message_and_issue_nothing(client, event):
    rows = people(2)
    rows[1]["snils"] = rows[0]["snils"]
    client.force_login(provider_of(event))
    response = api_issue(client, event, {"attendees": rows})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "attendees_invalid"
    assert error["rows"] == [
        {"row": 2, "field": "snils", "code": "snils_repeated", "message": "Такой же СНИЛС, как в строке 1."}
    ]
    page = upload(client, event, rows)
    assert page.status_code == 400
    assert "Такой же СНИЛС, как в строке 2." in page.content.decode()  # a file's header is its row 1
    assert not IcpCode.objects.exists()


def test_the_api_and_file_validators_are_one(client):
    rows = [
        {"full_name": " ", "email": "broken", "snils": "112-233-445 96"},
        {"full_name": "Петров Илья", "email": "PETROV@example.org", "snils": None},
    ]
    report = read_attendee_rows(rows)
    assert [(e.row, e.field, e.code) for e in report.errors] == [
        (1, "full_name", "full_name_missing"),
        (1, "email", "email_invalid"),
        (1, "snils", "snils_invalid"),
    ]
    fine = read_attendee_rows(rows[1:])
    assert fine.attendees == [Attendee(full_name="Петров Илья", email="petrov@example.org", snils=None, row=1)]


def test_a_doctor_posting_to_the_codes_endpoint_gets_403_before_the_body_is_read(client, event, psychiatry):
    client.force_login(DoctorProfileFactory(specialties=[psychiatry]).user)
    url = reverse("api:api-codes:event-codes", args=[event.pk])
    for body in ({"count": "many", "attendees": 7}, "not json at all", {}):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 403, response.content
    assert client.get(url).status_code == 403
    assert not IcpCode.objects.exists()


def test_another_organizations_event_and_an_unknown_event_answer_alike(client, event):
    client.force_login(MembershipFactory().user)
    foreign = client.post(
        reverse("api:api-codes:event-codes", args=[event.pk]), {"count": 1}, content_type="application/json"
    )
    unknown = client.post(
        reverse("api:api-codes:event-codes", args=[event.pk + 1000]), {"count": 1}, content_type="application/json"
    )
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert not IcpCode.objects.exists()
