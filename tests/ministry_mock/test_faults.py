"""Faults the mock can be told to simulate, so that the portal's retries can be tested against them."""

from types import SimpleNamespace

import pytest

from ministry_mock import services as ministry_services
from ministry_mock.models import Faults, ReceivedRecord

pytestmark = pytest.mark.django_db


def test_the_mock_starts_with_every_fault_off(ministry):
    assert ministry.get("_faults").json() == {"latency_ms": 0, "failure_rate": 0.0, "down": False}


def test_faults_set_through_the_api_are_kept_in_the_database(ministry):
    # Stored, not held in memory: the mock may run in another process than the one changing it.
    response = ministry.set_faults(latency_ms=25, failure_rate=0.25)
    assert response.json() == {"latency_ms": 25, "failure_rate": 0.25, "down": False}
    faults = Faults.objects.get(pk=1)
    assert (faults.latency_ms, faults.failure_rate, faults.down) == (25, 0.25, False)
    ministry.set_faults(down=True)
    assert ministry.get("_faults").json() == {"latency_ms": 25, "failure_rate": 0.25, "down": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"failure_rate": 1.5}, "failure_rate"),
        ({"failure_rate": True}, "failure_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 600_000}, "latency_ms"),
        ({"down": "yes"}, "down"),
        ({"slow": True}, "slow"),
    ],
)
def test_impossible_faults_are_refused_and_nothing_changes(ministry, body, field):
    response = ministry.put("_faults", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert ministry.get("_faults").json() == {"latency_ms": 0, "failure_rate": 0.0, "down": False}


def test_when_every_request_fails_it_is_500_and_nothing_is_stored(ministry, specialist):
    ministry.set_faults(failure_rate=1.0)
    response = ministry.send_record("ledger-1")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert not ReceivedRecord.objects.exists()
    assert ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"}).status_code == 500
    assert ministry.get("specialists/12345678964/records").status_code == 500


def test_a_record_retried_after_a_failure_is_stored_once(ministry, specialist):
    ministry.set_faults(failure_rate=1.0)
    assert ministry.send_record("ledger-1").status_code == 500
    ministry.set_faults(failure_rate=0.0)
    assert ministry.send_record("ledger-1").status_code == 201
    assert ministry.send_record("ledger-1").status_code == 200
    assert ReceivedRecord.objects.count() == 1


@pytest.mark.parametrize(("draw", "status"), [(0.29, 500), (0.31, 201)])
def test_a_share_of_requests_fails_as_the_random_draw_falls(ministry, specialist, monkeypatch, draw, status):
    ministry.set_faults(failure_rate=0.3)
    monkeypatch.setattr("ministry_mock.services.random.random", lambda: draw)
    assert ministry.send_record("ledger-1").status_code == status
    assert ReceivedRecord.objects.count() == (1 if status == 201 else 0)


def test_when_down_every_request_is_503_and_nothing_is_stored(ministry, specialist):
    ministry.set_faults(down=True)
    for response in [
        ministry.send_record("ledger-1"),
        ministry.post("accounts/link", {"snils": "12345678964", "login": "petrov.ap"}),
        ministry.get("specialists/12345678964/records"),
    ]:
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "unavailable"
    assert not ReceivedRecord.objects.exists()


def test_control_endpoints_answer_while_the_mock_is_down_and_failing(ministry, specialist):
    ministry.set_faults(down=True, failure_rate=1.0)
    assert ministry.get("_faults").status_code == 200
    assert ministry.post("_reset").status_code == 200
    assert ministry.post("_specialists", {"snils": "11111111145", "login": "x", "full_name": "X"}).status_code == 201
    ministry.set_faults(down=False, failure_rate=0.0)
    assert ministry.send_record("ledger-1").status_code == 201


def test_latency_delays_the_answer_by_the_set_time_and_then_answers(ministry, specialist, monkeypatch):
    # How long the wall clock takes is bench/'s question; here: the mock waits the time it was told, once,
    # and the delayed request is still stored and answered as usual.
    slept = []
    monkeypatch.setattr(ministry_services, "time", SimpleNamespace(sleep=slept.append))
    ministry.set_faults(latency_ms=150)
    response = ministry.send_record("ledger-1")
    assert slept == [0.15]
    assert response.status_code == 201
    assert ReceivedRecord.objects.filter(idempotency_key="ledger-1").count() == 1


def test_the_mock_recreates_a_missing_faults_row_with_every_fault_off(ministry, specialist):
    Faults.objects.all().delete()
    assert ministry.send_record("ledger-1").status_code == 201
    assert Faults.objects.get(pk=1).down is False


def test_the_health_page_answers_whatever_the_faults(client, faults):
    Faults.objects.filter(pk=1).update(down=True, failure_rate=1.0)
    response = client.get("/ministry-mock/status/")
    assert response.status_code == 200
    assert response.json() == {"service": "ministry-mock", "status": "ok"}
