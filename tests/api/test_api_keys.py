"""Organization API keys: made on the organization's page, shown once, scoped to their organization."""

import hashlib

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Membership, Organization, OrganizationApiKey
from accounts.services import api_key_revoke
from events.models import Event
from review.models import Status

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, UserFactory, make_snils
from .conftest import key_client, key_for
from .test_activities import event_payload, event_url

EVENTS = reverse("api:api-events:event-list")


def page(organization):
    return reverse("accounts:organization_detail", args=[organization.pk])


# In the browser.


@pytest.mark.django_db
def test_admin_creates_a_key_that_is_shown_once_and_stored_only_as_a_hash(client, provider, organization):
    client.force_login(provider)

    response = client.post(reverse("accounts:api_key_create", args=[organization.pk]), {"name": "СДО общества"})

    assert response.status_code == 200
    api_key = OrganizationApiKey.objects.get(organization=organization)
    html = response.content.decode()
    key = html.split('id="new-api-key" type="text" value="', 1)[1].split('"', 1)[0]
    assert key.startswith(f"nmo_{api_key.prefix}_")
    assert api_key.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {api_key.name, api_key.prefix, api_key.key_hash}
    assert "no-store" in response["Cache-Control"]
    assert api_key.created_by == provider
    assert AuditEvent.objects.filter(action="api_key.create", actor=provider).exists()
    assert not any(key in str(value) for value in client.session.values())

    later = client.get(page(organization)).content.decode()
    assert key not in later
    assert "СДО общества" in later
    assert f"nmo_{api_key.prefix}_" in later

    works = key_client(key).get(EVENTS)
    assert works.status_code == 200


@pytest.mark.django_db
def test_a_plain_member_can_neither_create_nor_see_keys(client, organization, provider):
    key_for(organization, provider, name="Интеграция")
    member = UserFactory()
    Membership.objects.create(organization=organization, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)

    response = client.post(reverse("accounts:api_key_create", args=[organization.pk]), {"name": "Моя"})

    assert response.status_code == 403
    assert OrganizationApiKey.objects.filter(organization=organization).count() == 1
    assert "Интеграция" not in client.get(page(organization)).content.decode()


@pytest.mark.django_db
def test_an_unverified_organization_gets_no_key(client):
    membership = MembershipFactory(organization__status=Organization.Status.PENDING)
    client.force_login(membership.user)

    response = client.post(reverse("accounts:api_key_create", args=[membership.organization.pk]), {"name": "СДО"})

    assert response.status_code == 400
    assert "не проверена" in response.content.decode()
    assert not OrganizationApiKey.objects.exists()


@pytest.mark.django_db
def test_admin_revokes_a_key_and_it_stops_working(client, provider, organization):
    key = key_for(organization, provider)
    api_key = OrganizationApiKey.objects.get()
    client.force_login(provider)

    response = client.post(reverse("accounts:api_key_revoke", args=[organization.pk, api_key.pk]), follow=True)

    assert response.status_code == 200
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    refused = key_client(key).get(EVENTS)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db
def test_a_key_of_another_organization_cannot_be_revoked_through_this_one(client, provider, organization):
    other = MembershipFactory()
    key_for(other.organization, other.user)
    foreign = OrganizationApiKey.objects.get(organization=other.organization)
    client.force_login(provider)

    response = client.post(reverse("accounts:api_key_revoke", args=[organization.pk, foreign.pk]))

    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


# In the API.


@pytest.mark.django_db
def test_a_key_registers_and_submits_an_event_for_its_organization(key_api, organization, provider, reviewer):
    created = key_api.post(EVENTS, event_payload(), format="json")

    assert created.status_code == 201, created.content
    event = Event.objects.get(pk=created.json()["id"])
    assert event.organization == organization
    assert event.created_by == provider  # the key acts for the administrator who made it
    assert key_api.post(event_url(event, "submit")).json()["status"] == "in_review"
    assert [item["id"] for item in key_api.get(EVENTS).json()["results"]] == [event.pk]
    assert OrganizationApiKey.objects.get().last_used_at is not None


@pytest.mark.django_db
def test_a_key_cannot_create_for_another_organization(key_api):
    other = MembershipFactory().organization
    response = key_api.post(EVENTS, event_payload(other), format="json")
    unknown = key_api.post(EVENTS, {**event_payload(), "organization": other.pk + 1000}, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()["error"]["fields"]
    assert unknown.json() == response.json()  # another provider's id and a made-up one answer alike
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_key_asking_who_it_is_gets_the_key_and_its_organization_not_its_creators_personal_data(
    organization, provider, psychiatry
):
    DoctorProfileFactory(user=provider, snils=make_snils(840_001), specialties=[psychiatry])
    key = key_client(key_for(organization, provider, name="СДО общества"))

    response = key.get(reverse("api:api-accounts:me"))

    assert response.status_code == 200
    body = response.json()
    text = response.content.decode()
    for private in (make_snils(840_001), provider.email, provider.first_name, provider.last_name):
        assert private not in text
    assert set(body) == {"api_key", "roles", "organizations"}
    assert body["api_key"]["name"] == "СДО общества"
    assert body["organizations"] == [
        {"id": organization.pk, "name": organization.name, "kind": organization.kind, "role": "api_key"}
    ]


@pytest.mark.django_db
def test_a_key_of_organization_a_cannot_read_or_submit_an_event_of_organization_b(provider, organization, reviewer):
    other = MembershipFactory()
    theirs = EventFactory(organization=other.organization, created_by=other.user)
    # The same person administering both organizations does not widen the key's reach.
    Membership.objects.create(organization=other.organization, user=provider, role=Membership.Role.ADMIN)
    key_a = key_client(key_for(organization, provider))

    assert key_a.get(event_url(theirs)).status_code == 404
    submit = key_a.post(event_url(theirs, "submit"))
    assert submit.status_code == 404
    assert submit.json()["error"]["code"] == "not_found"
    assert key_a.get(EVENTS).json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.status == Status.DRAFT


@pytest.mark.django_db
def test_a_revoked_or_made_up_key_is_a_401(organization, provider):
    key = key_for(organization, provider)
    api_key_revoke(api_key=OrganizationApiKey.objects.get(), actor=provider)

    for bad in (key, "nmo_deadbeef_nonsense", "not-a-key"):
        response = key_client(bad).get(EVENTS)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "message"),
    [
        (
            "post",
            "api:api-codes:activate",
            "Codes are activated by doctors themselves, not with an organization's key.",
        ),
        (
            "get",
            "api:api-learning_plan:plan",
            "The learning plan is read by the doctor, not with an organization's key.",
        ),
        ("get", "api:api-review:review-list", "An organization's API key cannot act as an expert: sign in in person."),
    ],
)
def test_a_key_is_refused_what_only_a_person_does(key_api, method, url, message):
    """require_person and the review queue's permission: 403 with the action's own message, before the body."""
    response = getattr(key_api, method)(
        reverse(url), {"code": "not a code"} if method == "post" else None, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 403
    assert response.json()["error"]["message"] == message
