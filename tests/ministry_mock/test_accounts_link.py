"""Linking: the portal proves that a doctor is a specialist known to the Ministry by СНИЛС and login."""

import pytest

pytestmark = pytest.mark.django_db


def test_link_returns_the_specialist_and_every_cycle_with_its_id(ministry, specialist):
    response = ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"})
    assert response.status_code == 200
    body = response.json()
    assert body["specialist_id"] == specialist.id
    assert body["full_name"] == "Петров Андрей Павлович"
    cycles = {cycle["specialty_code"]: cycle for cycle in body["cycles"]}
    psychiatry = specialist.cycles.get(specialty_code="31.08.20")
    assert cycles["31.08.20"] == {
        "id": psychiatry.id,
        "specialty_code": "31.08.20",
        "starts_on": "2024-01-01",
        "ends_on": "2028-12-31",
    }
    assert set(cycles) == {"31.08.20", "31.08.36"}


def test_link_accepts_the_snils_as_people_type_it_and_the_login_in_any_case(ministry, specialist):
    response = ministry.post("accounts/link", {"snils": "123-456-789 64", "login": "Petrov.AP"})
    assert response.status_code == 200
    assert response.json()["specialist_id"] == specialist.id


def test_link_of_an_unknown_snils_is_404_specialist_not_found(ministry, specialist):
    response = ministry.post("accounts/link", {"snils": "11111111145", "login": "petrov.ap"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "specialist_not_found"
    assert "СНИЛС" in error["message"]


def test_link_with_the_login_of_someone_else_is_409_login_mismatch(ministry, specialist):
    response = ministry.post("accounts/link", {"snils": "12345678964", "login": "ivanova.ms"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "login_mismatch"
    assert "Логин" in error["message"]


def test_link_without_a_login_lists_the_field(ministry, specialist):
    response = ministry.post("accounts/link", {"snils": "123"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"snils", "login"}


def test_link_with_a_body_that_is_not_json_is_400(ministry, client):
    response = client.post(
        "/ministry-mock/api/v1/accounts/link",
        "snils=1",
        content_type="application/json",
        headers={"Authorization": "Bearer t"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_the_demo_doctor_of_the_portal_is_known_to_the_ministry(ministry):
    # Created by the data migration, so that `make run` links the demo doctor out of the box.
    response = ministry.post("accounts/link", {"snils": "11223344595", "login": "ivanova.ms"})
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "Иванова Мария Сергеевна"
    assert [(c["specialty_code"], c["starts_on"], c["ends_on"]) for c in body["cycles"]] == [
        ("31.08.20", "2024-01-15", "2029-01-14")
    ]


ENDPOINTS = [
    ("post", "accounts/link"),
    ("post", "records"),
    ("get", "specialists/12345678964/records"),
    ("get", "_faults"),
    ("post", "_specialists"),
    ("post", "_reset"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "t", "Token t"])
def test_every_api_endpoint_refuses_requests_without_the_token(client, specialist, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    url = "/ministry-mock/api/v1/" + path
    if method == "post":
        response = client.post(url, {}, content_type="application/json", headers=headers)
    else:
        response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_token_comes_from_the_settings(ministry, specialist, settings):
    settings.MINISTRY_API_TOKEN = "rotated"
    assert ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"}).status_code == 401
    ministry.token = "rotated"
    assert ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"}).status_code == 200


def test_a_wrong_method_is_405_with_the_allowed_ones(ministry):
    response = ministry.get("accounts/link")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
