"""The mock alone on its own port (ROOT_URLCONF=ministry_mock.urls): the same API at the root."""

import pytest

from ministry_mock.models import ReceivedRecord

from .conftest import Ministry

pytestmark = [pytest.mark.django_db, pytest.mark.urls("ministry_mock.urls")]


def test_alone_the_mock_serves_its_api_and_health_at_the_root(client, specialist):
    ministry = Ministry(client, prefix="/api/v1/")
    assert client.get("/status/").json() == {"service": "ministry-mock", "status": "ok"}
    assert client.get("/").json()["service"] == "ministry-mock"
    assert ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"}).status_code == 200
    assert ministry.send_record("ledger-1").status_code == 201
    assert ReceivedRecord.objects.count() == 1


def test_alone_an_unknown_address_is_a_json_404(client):
    # The portal's 404 page links to the portal's home, which does not exist here.
    response = client.get("/admin/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
