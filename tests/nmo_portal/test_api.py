import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_api_refuses_anonymous_callers_with_a_json_error(client):
    response = client.get(reverse("api:api-accounts:me"))
    # no credentials at all: "who are you?" (401), not "you may not" (403)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.json()["error"]["message"]


def test_me_shows_the_doctor_and_roles(client, doctor):
    client.force_login(doctor)
    data = client.get(reverse("api:api-accounts:me")).json()
    assert data["email"] == doctor.email
    assert data["roles"] == ["doctor"]
    assert data["specialties"][0]["code"] == "31.08.20"
    assert len(data["snils"]) == 11


@pytest.mark.django_db
def test_openapi_schema_and_docs_are_served(client):
    assert client.get(reverse("api:schema")).status_code == 200
    assert client.get(reverse("api:docs")).status_code == 200


@pytest.mark.django_db
def test_ministry_mock_answers_inside_the_dev_server(client):
    assert client.get("/ministry-mock/status/").json() == {"service": "ministry-mock", "status": "ok"}


@pytest.mark.django_db
def test_me_lists_the_organizations_i_belong_to_with_their_kinds_and_my_roles(client, doctor):
    from accounts.models import Membership, Organization

    from ..factories import MembershipFactory

    society = MembershipFactory(user=doctor, organization__name="Б Общество", role=Membership.Role.ADMIN).organization
    university = MembershipFactory(
        user=doctor,
        organization__name="А Университет",
        organization__kind=Organization.Kind.UNIVERSITY,
        role=Membership.Role.MEMBER,
    ).organization
    MembershipFactory()  # someone else's organization
    client.force_login(doctor)

    data = client.get(reverse("api:api-accounts:me")).json()

    assert data["organizations"] == [
        {"id": university.pk, "name": "А Университет", "kind": "university", "role": "member"},
        {"id": society.pk, "name": "Б Общество", "kind": "society", "role": "admin"},
    ]
    assert data["roles"] == ["doctor", "provider"]
