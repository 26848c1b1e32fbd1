"""The Ministry mock as the portal meets it: over HTTP, with a bearer token, at /ministry-mock/."""

import datetime

import pytest

from ministry_mock.models import Faults, Specialist, SpecialistCycle

TOKEN = "t"
PREFIX = "/ministry-mock/api/v1/"


class Ministry:
    """A thin HTTP client for the mock: JSON bodies, the token, optional extra headers."""

    def __init__(self, client, *, prefix=PREFIX, token=TOKEN):
        self.client = client
        self.prefix = prefix
        self.token = token

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path, *, headers=None):
        return self.client.get(self.prefix + path, headers=self.headers(headers))

    def post(self, path, body=None, *, headers=None):
        return self.client.post(
            self.prefix + path, body or {}, content_type="application/json", headers=self.headers(headers)
        )

    def put(self, path, body, *, headers=None):
        return self.client.put(self.prefix + path, body, content_type="application/json", headers=self.headers(headers))

    def send_record(self, key, **overrides):
        body = {
            "snils": "12345678964",
            "specialty_code": "31.08.20",
            "kind": "educationElementZet",
            "zet": 6,
            "title": "Конгресс психиатров",
            "earned_on": "2025-03-14",
            "source_ref": "ICP-ABCD-1234",
            **overrides,
        }
        headers = {"Idempotency-Key": key} if key is not None else {}
        return self.post("records", body, headers=headers)

    def set_faults(self, **faults):
        response = self.put("_faults", faults)
        assert response.status_code == 200, response.content
        return response


@pytest.fixture(autouse=True)
def _ministry_token(settings):
    settings.MINISTRY_API_TOKEN = TOKEN


@pytest.fixture
def ministry(client, db):
    return Ministry(client)


@pytest.fixture
def specialist(db):
    """Петров with a psychiatry cycle (2024–2028) and a cardiology cycle (2021–2025)."""
    specialist = Specialist.objects.create(snils="12345678964", login="petrov.ap", full_name="Петров Андрей Павлович")
    SpecialistCycle.objects.create(
        specialist=specialist,
        specialty_code="31.08.20",
        starts_on=datetime.date(2024, 1, 1),
        ends_on=datetime.date(2028, 12, 31),
    )
    SpecialistCycle.objects.create(
        specialist=specialist,
        specialty_code="31.08.36",
        starts_on=datetime.date(2021, 1, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    return specialist


@pytest.fixture
def faults(db):
    return Faults.current()
