from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from codes import issuance
from codes.format import ALPHABET, is_valid
from codes.models import IcpCode, IssuanceBatch
from nmo_portal.errors import PermissionDenied, PortalError

from ..factories import EventFactory, MembershipFactory, moscow

pytestmark = pytest.mark.django_db


@pytest.fixture
def congress(psychiatry):
    """A national psychiatrists' congress of 4 consecutive days, approved with 24 credits."""
    start = moscow(-10, 9)
    return EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=start,
        ends_at=start + timedelta(days=3, hours=9),
        hours=32,
        credits_requested=24,
        specialties=[psychiatry],
    )


def provider_of(event):
    return event.organization.memberships.get().user


def test_800_codes_for_one_day_of_a_congress_are_unique_valid_and_without_o(congress):
    batch = issuance.codes_issue(event=congress, actor=provider_of(congress), count=800)
    codes = list(IcpCode.objects.filter(batch=batch).values_list("code", flat=True))
    assert batch.state == IssuanceBatch.State.DONE
    assert len(codes) == 800
    assert len(set(codes)) == 800
    assert all(is_valid(code) for code in codes)
    assert not any("O" in code for code in codes)
    assert all(set(code) <= set(ALPHABET) for code in codes)
    tokens = set(IcpCode.objects.filter(batch=batch).values_list("verify_token", flat=True))
    assert len(tokens) == 800  # each certificate has its own check page address


def test_a_large_issuance_runs_as_a_task_and_reports_progress(
    congress, settings, django_capture_on_commit_callbacks, client
):
    settings.ICP_SYNC_ISSUE_LIMIT = 100
    with django_capture_on_commit_callbacks(execute=True):
        batch = issuance.codes_issue(event=congress, actor=provider_of(congress), count=2500)
    assert batch.state == IssuanceBatch.State.QUEUED  # handed to Celery (in-process here)
    batch.refresh_from_db()
    assert (batch.state, batch.issued, batch.progress) == (IssuanceBatch.State.DONE, 2500, 100)
    client.force_login(provider_of(congress))
    progress = client.get(reverse("codes:batch_progress", args=[batch.pk])).json()
    assert progress == {"state": "done", "state_label": "Готово", "issued": 2500, "requested": 2500, "progress": 100}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_list_issued_in_process_is_reported_issued_not_in_progress(congress, settings, client):
    """Without a worker (a bare runserver) the task runs in the request: the page says it is done."""
    settings.ICP_SYNC_ISSUE_LIMIT = 10
    rows = "".join(f"Участник {n};person{n}@example.org\r\n" for n in range(30))
    upload = SimpleUploadedFile("list.csv", ("ФИО;E-mail\r\n" + rows).encode())
    client.force_login(provider_of(congress))
    response = client.post(reverse("codes:issue_file", args=[congress.pk]), {"file": upload}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Выпущено кодов: 30."]
    assert IssuanceBatch.objects.get(event=congress).state == IssuanceBatch.State.DONE


def test_a_list_left_to_the_worker_is_reported_accepted_whatever_its_state_by_then(
    congress, settings, client, django_capture_on_commit_callbacks
):
    settings.ICP_SYNC_ISSUE_LIMIT = 10
    rows = "".join(f"Участник {n};person{n}@example.org\r\n" for n in range(30))
    upload = SimpleUploadedFile("list.csv", ("ФИО;E-mail\r\n" + rows).encode())
    client.force_login(provider_of(congress))
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not started it yet
        response = client.post(reverse("codes:issue_file", args=[congress.pk]), {"file": upload}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["Выпуск 30 кодов принят; ход выпуска показан ниже."]
    assert 'data-state="queued"' in response.content.decode()


def test_codes_only_for_approved_events_and_only_by_their_provider(psychiatry, doctor):
    draft = EventFactory(organization=MembershipFactory().organization)
    with pytest.raises(PortalError) as info:
        issuance.codes_issue(event=draft, actor=provider_of(draft), count=5)
    assert info.value.code == "event_not_approved"
    approved = EventFactory(approved=True)
    with pytest.raises(PermissionDenied):
        issuance.codes_issue(event=approved, actor=doctor, count=5)
    assert not IcpCode.objects.exists()


CSV_GOOD = (
    "ФИО;E-mail;СНИЛС\r\n"
    "Иванова Мария Сергеевна;ivanova@example.org;112-233-445 95\r\n"
    "Петров Илья;petrov@example.org;\r\n"
)


def upload(client, event, content, name="attendees.csv", encoding="cp1251"):
    return client.post(
        reverse("codes:issue_file", args=[event.pk]),
        {"file": SimpleUploadedFile(name, content.encode(encoding))},
    )


def test_an_attendee_list_as_russian_excel_saves_it_issues_named_codes(client, congress):
    client.force_login(provider_of(congress))
    response = upload(client, congress, CSV_GOOD)
    assert response.status_code == 302
    holders = dict(IcpCode.objects.values_list("holder_email", "holder_name"))
    assert holders == {"ivanova@example.org": "Иванова Мария Сергеевна", "petrov@example.org": "Петров Илья"}
    assert IcpCode.objects.get(holder_email="ivanova@example.org").holder_snils == "11223344595"


@pytest.mark.parametrize(
    "content",
    [
        "ФИО;СНИЛС\r\nИванова;112-233-445 95\r\n",  # missing e-mail column
        "ФИО;E-mail\r\nИванова;not-an-email\r\n",  # broken e-mail
        "ФИО;E-mail\r\nИванова;a@example.org\r\nИванова;a@example.org\r\n",  # duplicate row
        "ФИО;E-mail;СНИЛС\r\nИванова;a@example.org;112-233-445 96\r\n",  # bad СНИЛС
    ],
    ids=["missing-column", "broken-email", "duplicate-row", "bad-snils"],
)
def test_a_bad_attendee_file_writes_no_code_and_reports_the_rows(client, congress, content):
    client.force_login(provider_of(congress))
    response = upload(client, congress, content)
    assert response.status_code == 400
    assert not IcpCode.objects.exists()
    assert not IssuanceBatch.objects.exists()


def test_api_issues_blank_codes_and_lists_them_with_an_api_key(client, congress):
    from accounts.services import api_key_create

    _key, secret = api_key_create(organization=congress.organization, actor=provider_of(congress), name="CRM")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {secret}"}
    url = reverse("api:api-codes:event-codes", args=[congress.pk])
    response = client.post(url, {"count": 20}, content_type="application/json", **auth)
    assert response.status_code == 201
    assert response.json()["issued"] == 20
    listing = client.get(url, **auth).json()
    assert listing["count"] == 20
    assert {row["status"] for row in listing["results"]} == {"issued"}
    assert listing["results"][0]["verify_url"].startswith("http")
    first = IcpCode.objects.get(pk=listing["results"][0]["id"])
    assert listing["results"][0]["verify_url"] == f"http://testserver/verify/{first.verify_token}/"
    other = EventFactory(approved=True)
    assert client.get(reverse("api:api-codes:event-codes", args=[other.pk]), **auth).status_code == 404


def test_api_attendee_list_with_a_bad_row_issues_nothing(client, congress):
    client.force_login(provider_of(congress))
    url = reverse("api:api-codes:event-codes", args=[congress.pk])
    body = {
        "attendees": [
            {"full_name": "Иванова Мария", "email": "a@example.org", "snils": "112-233-445 95"},
            {"full_name": "Петров Илья", "email": "a@example.org"},
        ]
    }
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert not IcpCode.objects.exists()


def test_codes_page_lists_codes_with_filters_and_exports_csv(client, congress, django_assert_max_num_queries):
    issuance.codes_issue(event=congress, actor=provider_of(congress), count=150)
    client.force_login(provider_of(congress))
    with django_assert_max_num_queries(20):
        page = client.get(reverse("codes:event_codes", args=[congress.pk]))
    assert page.status_code == 200
    export = client.get(reverse("codes:codes_export", args=[congress.pk]))
    lines = export.getvalue().decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 151
    assert lines[1].split(";")[0][4] == "-"


def test_codes_page_is_hidden_from_other_organizations(client, congress, doctor):
    other = MembershipFactory().user
    for user in (other, doctor):
        client.force_login(user)
        assert client.get(reverse("codes:event_codes", args=[congress.pk])).status_code == 404
        client.post(reverse("codes:issue_blank", args=[congress.pk]), {"count": 5})
    assert not IcpCode.objects.exists()


def test_events_in_the_future_get_codes_too_but_activation_waits(congress):
    future = EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=timezone.now() + timedelta(days=40),
        ends_at=timezone.now() + timedelta(days=41),
    )
    batch = issuance.codes_issue(event=future, actor=provider_of(future), count=3)
    assert batch.issued == 3


def test_the_same_attendee_list_twice_issues_nothing_the_second_time_unless_confirmed(client, congress):
    client.force_login(provider_of(congress))
    upload(client, congress, CSV_GOOD)
    assert IcpCode.objects.count() == 2
    response = upload(client, congress, CSV_GOOD)
    assert response.status_code == 302
    assert IcpCode.objects.count() == 2  # nothing issued twice by mistake
    page = client.get(response["Location"]).content.decode()
    assert "ivanova@example.org" in page
    client.post(
        reverse("codes:issue_file", args=[congress.pk]),
        {"file": SimpleUploadedFile("again.csv", CSV_GOOD.encode("cp1251")), "issue_again": "on"},
    )
    assert IcpCode.objects.count() == 4


def test_api_issuance_is_throttled_at_the_rate_in_settings(client, congress, settings, monkeypatch):
    """The rate lives in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (API_THROTTLE_CODES_ISSUE), not in the class."""
    from codes.api import IssueThrottle

    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["codes_issue"] == "60/hour"
    assert IssueThrottle().rate == "60/hour"
    monkeypatch.setitem(IssueThrottle.THROTTLE_RATES, "codes_issue", "2/hour")
    client.force_login(provider_of(congress))
    url = reverse("api:api-codes:event-codes", args=[congress.pk])

    statuses = [client.post(url, {"count": 1}, content_type="application/json").status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert client.get(url).status_code == 200  # reading the codes is not throttled
