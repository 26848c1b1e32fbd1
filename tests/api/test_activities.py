"""The provider's own events and modules through the API, signed in with the browser session."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Membership, Organization
from events.models import Event
from modules.models import Module
from review.models import Status

from ..factories import (
    EventFactory,
    MembershipFactory,
    ModuleFactory,
    OrganizationFactory,
    ReviewerAppointmentFactory,
    UserFactory,
    moscow,
)

EVENTS = reverse("api:api-events:event-list")
MODULES = reverse("api:api-modules:module-list")


def event_url(event, action=None):
    if action:
        return reverse(f"api:api-events:event-{action}", args=[event.pk])
    return reverse("api:api-events:event-detail", args=[event.pk])


def event_payload(organization=None, **changes):
    starts = moscow(45)
    payload = {
        "title": "Школа молодого психиатра",
        "programme": "Лекции: первый эпизод психоза, депрессия.",
        "format": "in_person",
        "venue": "Санкт-Петербург, Невский пр., 1",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=7)).isoformat(),
        "specialties": ["31.08.20", "31.08.22"],
        "hours": 6,
        "credits_requested": 6,
    }
    if organization is not None:
        payload["organization"] = organization.pk
    payload.update(changes)
    return payload


def error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.django_db
def test_provider_creates_edits_and_submits_an_event_that_goes_to_an_eligible_expert(
    provider_api, organization, psychiatry, django_capture_on_commit_callbacks
):
    # An expert for psychiatry who is also a member of the provider may not review it, though appointed first.
    insider = ReviewerAppointmentFactory(specialty=psychiatry).user
    Membership.objects.create(organization=organization, user=insider, role=Membership.Role.MEMBER)
    reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user

    created = provider_api.post(EVENTS, event_payload(organization), format="json")
    assert created.status_code == 201, created.content
    event = Event.objects.get(pk=created.json()["id"])
    assert event.status == Status.DRAFT
    assert event.organization == organization
    assert sorted(s.code for s in event.specialties.all()) == ["31.08.20", "31.08.22"]
    assert created.json()["specialties"] == ["31.08.20", "31.08.22"]
    assert created.json()["status"] == "draft"
    assert created.json()["transitions"] == []

    edited = provider_api.patch(event_url(event), {"title": "Школа психиатра", "credits_requested": 5}, format="json")
    assert edited.status_code == 200, edited.content
    event.refresh_from_db()
    assert (event.title, event.credits_requested) == ("Школа психиатра", 5)
    assert sorted(s.code for s in event.specialties.all()) == ["31.08.20", "31.08.22"]  # untouched by PATCH

    with django_capture_on_commit_callbacks(execute=True):
        submitted = provider_api.post(event_url(event, "submit"))

    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW
    assert event.reviewer == reviewer
    assert body["status"] == "in_review"
    assert body["submitted_at"]
    assert body["due_at"]
    assert [(t["from_status"], t["to_status"]) for t in body["transitions"]] == [
        ("draft", "submitted"),
        ("submitted", "in_review"),
    ]
    assert "reviewer" not in body  # experts stay anonymous to providers
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    assert AuditEvent.objects.filter(action="event.create", object_id=str(event.pk)).exists()


@pytest.mark.django_db
def test_rules_of_the_model_come_back_as_a_400_with_the_fields(provider_api, organization):
    no_venue = provider_api.post(EVENTS, event_payload(organization, venue=""), format="json")
    fields = error(no_venue, 400)["fields"]
    assert "venue" in fields
    assert error(no_venue, 400)["message"]

    no_specialties = provider_api.post(EVENTS, event_payload(organization, specialties=[]), format="json")
    assert "specialties" in error(no_specialties, 400)["fields"]

    too_many_credits = provider_api.post(
        EVENTS, event_payload(organization, hours=4, credits_requested=5), format="json"
    )
    assert "credits_requested" in error(too_many_credits, 400)["fields"]

    unknown_specialty = provider_api.post(EVENTS, event_payload(organization, specialties=["00.00.00"]), format="json")
    assert "specialties" in error(unknown_specialty, 400)["fields"]
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_an_event_in_review_cannot_be_edited_or_submitted_again(provider_api, organization, reviewer):
    event = EventFactory(organization=organization)
    assert provider_api.post(event_url(event, "submit")).status_code == 200

    again = provider_api.post(event_url(event, "submit"))
    assert error(again, 409)["code"] == "illegal_transition"
    edit = provider_api.patch(event_url(event), {"title": "Другое название"}, format="json")
    assert error(edit, 409)["code"] == "illegal_transition"
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW
    assert event.title != "Другое название"


@pytest.mark.django_db
def test_a_submission_breaking_the_rules_is_refused_with_what_to_fix(provider_api, organization, settings):
    settings.LANGUAGE_CODE = "en"
    soon = EventFactory(organization=organization, starts_at=moscow(10), ends_at=moscow(10, 18))

    refused = provider_api.post(event_url(soon, "submit"), HTTP_ACCEPT_LANGUAGE="en")

    assert error(refused, 400)["code"] == "submission_refused"
    assert "30 days" in error(refused, 400)["message"]
    soon.refresh_from_db()
    assert soon.status == Status.DRAFT


@pytest.mark.django_db
def test_provider_withdraws_a_submitted_event_and_may_edit_it_again(provider, provider_api, organization, reviewer):
    event = EventFactory(organization=organization, created_by=provider)
    provider_api.post(event_url(event, "submit"))

    withdrawn = provider_api.post(event_url(event, "withdraw"))

    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert provider_api.patch(event_url(event), {"title": "Исправлено"}, format="json").status_code == 200
    assert error(provider_api.post(event_url(event, "withdraw")), 409)["code"] == "illegal_transition"


@pytest.mark.django_db
def test_provider_sees_only_the_activities_of_own_organizations(provider_api, organization):
    own = EventFactory(organization=organization, title="Наше")
    EventFactory(organization=organization, title="Наше одобренное", approved=True)
    other = EventFactory(title="Чужое")

    listed = provider_api.get(EVENTS).json()
    assert sorted(item["title"] for item in listed["results"]) == ["Наше", "Наше одобренное"]
    assert [i["title"] for i in provider_api.get(EVENTS, {"status": "approved"}).json()["results"]] == [
        "Наше одобренное"
    ]
    assert provider_api.get(event_url(own)).json()["title"] == "Наше"

    assert error(provider_api.get(event_url(other)), 404)["code"] == "not_found"
    assert error(provider_api.post(event_url(other, "submit")), 404)["code"] == "not_found"
    assert error(provider_api.patch(event_url(other), {"title": "Взлом"}, format="json"), 404)
    other.refresh_from_db()
    assert other.title == "Чужое"
    assert other.status == Status.DRAFT


@pytest.mark.django_db
def test_a_foreign_organization_and_an_unknown_one_answer_alike(provider_api):
    foreign = OrganizationFactory()
    unknown_id = foreign.pk + 1000

    to_foreign = provider_api.post(EVENTS, event_payload(foreign), format="json")
    to_unknown = provider_api.post(EVENTS, {**event_payload(), "organization": unknown_id}, format="json")

    assert to_foreign.status_code == to_unknown.status_code == 400
    assert to_foreign.json() == to_unknown.json()
    assert error(to_foreign, 400)["fields"] == {"organization": ["Это не одна из ваших организаций."]}
    missing = provider_api.post(EVENTS, event_payload(), format="json")
    assert "organization" in error(missing, 400)["fields"]
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_person_who_is_not_provider_staff_gets_403_before_validation(api, doctor, provider):
    event = EventFactory(organization=provider.memberships.get().organization)
    module = ModuleFactory(organization=event.organization, approved=True)
    api.force_login(doctor)

    answers = [
        api.post(EVENTS, {"title": ""}, format="json"),  # invalid: a provider would get a 400
        api.get(EVENTS),
        api.get(event_url(event)),
        api.patch(event_url(event), {"hours": -1}, format="json"),
        api.post(event_url(event, "submit")),
        api.post(MODULES, {}, format="json"),
        api.get(MODULES),
        api.get(reverse("api:api-modules:module-detail", args=[module.pk])),
        api.post(reverse("api:api-modules:module-submit", args=[module.pk])),
        api.post(reverse("api:api-modules:module-completions", args=[module.pk]), {}, format="json"),
        api.get(reverse("api:api-modules:module-completions", args=[module.pk])),
    ]

    assert [response.status_code for response in answers] == [403] * len(answers)
    assert {response.json()["error"]["code"] for response in answers} == {"permission_denied"}
    assert Event.objects.count() == 1
    assert Module.objects.count() == 1


@pytest.mark.django_db
def test_staff_of_another_provider_still_get_404_for_activities_not_theirs(api, provider):
    event = EventFactory(organization=provider.memberships.get().organization)
    api.force_login(MembershipFactory().user)

    assert error(api.get(event_url(event)), 404)["code"] == "not_found"
    assert error(api.post(event_url(event, "submit")), 404)["code"] == "not_found"


@pytest.mark.django_db
def test_an_unverified_organization_cannot_register_activities(api):
    membership = MembershipFactory(organization__status=Organization.Status.PENDING)
    api.force_login(membership.user)
    response = api.post(EVENTS, event_payload(membership.organization), format="json")
    assert error(response, 403)["code"] == "organization_not_verified"
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_anonymous_callers_get_a_json_401(api):
    event = EventFactory()
    assert error(api.get(EVENTS), 401)["code"] == "not_authenticated"
    assert error(api.post(event_url(event, "submit")), 401)["code"] == "not_authenticated"


@pytest.mark.django_db
def test_activities_cannot_be_deleted_through_the_api(provider_api, organization):
    event = EventFactory(organization=organization)
    assert error(provider_api.delete(event_url(event)), 405)["code"] == "method_not_allowed"
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_provider_registers_and_submits_a_module(provider_api, organization, reviewer):
    day = timezone.localdate()
    created = provider_api.post(
        MODULES,
        {
            "organization": organization.pk,
            "title": "Психофармакотерапия депрессии",
            "annotation": "Клинические задачи с разбором.",
            "link": "https://learn.example.org/depression",
            "available_from": day.isoformat(),
            "available_until": (day + timedelta(days=365)).isoformat(),
            "specialties": ["31.08.20"],
            "hours": 4,
            "credits_requested": 4,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    module = Module.objects.get(pk=created.json()["id"])

    backwards = provider_api.patch(
        reverse("api:api-modules:module-detail", args=[module.pk]),
        {"available_until": (day - timedelta(days=1)).isoformat()},
        format="json",
    )
    assert "available_until" in error(backwards, 400)["fields"]

    submitted = provider_api.post(reverse("api:api-modules:module-submit", args=[module.pk]))
    assert submitted.json()["status"] == "in_review"
    module.refresh_from_db()
    assert module.reviewer == reviewer


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_provider_list_takes_the_same_queries_for_5_and_50_activities(
    provider_api, organization, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        EventFactory(organization=organization)
        ModuleFactory(organization=organization)
    # session, user, count, page, specialties, transitions
    with django_assert_max_num_queries(7):
        events = provider_api.get(EVENTS)
    with django_assert_max_num_queries(7):
        modules = provider_api.get(MODULES)
    assert len(events.json()["results"]) == rows
    assert len(modules.json()["results"]) == rows


@pytest.mark.django_db
def test_a_member_who_is_not_an_admin_may_still_register_activities(api, organization):
    member = UserFactory()
    Membership.objects.create(organization=organization, user=member, role=Membership.Role.MEMBER)
    api.force_login(member)
    assert api.post(EVENTS, event_payload(organization), format="json").status_code == 201
