"""The OpenAPI schema tells the truth: errors are documented, pagination is shown as it is, dates are bounded."""

import pytest
from django.urls import reverse

from events.models import Event
from modules.models import Module, ModuleCompletion

from ..factories import EventFactory, ModuleFactory, make_snils

SNILS = make_snils(900_001)


@pytest.fixture
def schema(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def module(organization):
    return ModuleFactory(organization=organization, approved=True)


def report(key_api, module, completed_at):
    return key_api.post(
        f"/api/v1/modules/{module.pk}/completions/",
        {"external_id": "lms-1", "snils": SNILS, "completed_at": completed_at},
        format="json",
    )


# Errors are documented.


@pytest.mark.django_db
def test_every_operation_documents_its_errors_with_the_one_error_shape(schema):
    error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "401" in responses, (method, path)
            assert "400" in responses, (method, path)  # a NUL in any query string is a 400 on every path
            for status, response in responses.items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == error_ref, (method, path, status)
    error = schema["components"]["schemas"]["Error"]
    assert {"code", "message"} <= set(error["required"])
    assert {"fields", "retry_at", "dispute", "skipped", "rows"} <= set(error["properties"])


@pytest.mark.django_db
def test_operations_list_the_errors_they_can_give(schema):
    def statuses(method, path):
        return set(schema["paths"][path][method]["responses"])

    assert {"400", "401", "403", "404", "409", "415", "429"} <= statuses("post", "/api/v1/events/{id}/codes/")
    assert {"400", "401", "403", "429"} <= statuses("post", "/api/v1/codes/activate/")
    assert {"404", "409"} <= statuses("post", "/api/v1/events/{id}/submit/")
    assert {"409"} <= statuses("patch", "/api/v1/modules/{id}/")
    # the public catalogue: no 403, but a filter it cannot read is a 400
    assert "403" not in statuses("get", "/api/v1/catalog/events/")
    assert "400" in statuses("get", "/api/v1/catalog/events/")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/events/0.5/", "/api/v1/events/abc/codes/", "/api/v1/nothing/"])
def test_an_unknown_api_path_answers_the_json_error_not_the_sites_html_page(key_api, path):
    response = key_api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_an_api_path_without_its_slash_is_still_redirected_to_it(key_api):
    response = key_api.get("/api/v1/events")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/events/"


# Pagination is shown as it is.


@pytest.mark.django_db
def test_the_event_codes_list_is_documented_as_the_paginated_envelope_it_answers_with(schema, key_api, organization):
    operation = schema["paths"]["/api/v1/events/{id}/codes/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
    assert {"page", "status", "q"} <= {p["name"] for p in operation["parameters"]}

    event = EventFactory(organization=organization, approved=True)
    body = key_api.get(f"/api/v1/events/{event.pk}/codes/").json()
    assert set(body) == {"count", "next", "previous", "results"}


@pytest.mark.django_db
def test_the_event_codes_list_refuses_a_status_it_does_not_know(key_api, organization):
    event = EventFactory(organization=organization, approved=True)

    response = key_api.get(f"/api/v1/events/{event.pk}/codes/?status=lost")

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_an_in_person_events_empty_link_is_documented(schema, api):
    link = schema["components"]["schemas"]["CatalogEvent"]["properties"]["link"]
    assert {"type": "string", "maxLength": 0} in link["anyOf"]

    EventFactory(approved=True, public_number="2026-000001", link="")
    assert api.get("/api/v1/catalog/events/").json()["results"][0]["link"] == ""


# Dates are bounded.


@pytest.mark.django_db
def test_a_module_completion_in_the_year_731_is_refused(key_api, module):
    response = report(key_api, module, "0731-05-01T10:00:00+03:00")

    assert response.status_code == 400
    assert "2000-01-01" in response.json()["error"]["fields"]["completed_at"][0]
    assert not ModuleCompletion.objects.exists()


@pytest.mark.django_db
def test_the_schema_says_which_years_a_date_may_have(schema):
    completed_at = schema["components"]["schemas"]["CompletionReport"]["properties"]["completed_at"]
    assert completed_at["format"] == "date-time"
    assert completed_at["pattern"] == "^20[0-9]{2}-"
    date_from = next(
        p for p in schema["paths"]["/api/v1/catalog/events/"]["get"]["parameters"] if p["name"] == "date_from"
    )
    assert date_from["schema"]["pattern"] == "^20[0-9]{2}-"


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
@pytest.mark.parametrize("path", ["/api/v1/catalog/events/", "/api/v1/catalog/modules/"])
def test_catalogue_dates_at_the_ends_of_the_calendar_are_refused_not_a_500(api, path, day):
    for name in ("date_from", "date_to"):
        response = api.get(path, {name: day})

        assert response.status_code == 400, (name, response.content)
        assert name in response.json()["error"]["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:00:00", "1812-09-07T10:00:00"]
)
def test_an_event_at_the_ends_of_the_calendar_is_refused_not_a_500(key_api, psychiatry, moment):
    response = key_api.post(
        "/api/v1/events/",
        {
            "title": "Школа",
            "programme": "Лекции.",
            "format": "in_person",
            "venue": "Москва",
            "specialties": ["31.08.20"],
            "hours": 6,
            "credits_requested": 6,
            "starts_at": moment,
            "ends_at": moment,
        },
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "starts_at" in response.json()["error"]["fields"]
    assert not Event.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_module_available_at_the_ends_of_the_calendar_is_refused(key_api, psychiatry, day):
    response = key_api.post(
        "/api/v1/modules/",
        {
            "title": "Модуль",
            "annotation": "Задачи.",
            "link": "https://learn.example.org/m",
            "specialties": ["31.08.20"],
            "hours": 6,
            "credits_requested": 6,
            "available_from": "2026-01-01",
            "available_until": day,
        },
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "available_until" in response.json()["error"]["fields"]
    assert not Module.objects.exists()
