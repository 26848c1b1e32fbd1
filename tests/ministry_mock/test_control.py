"""Control endpoints: what tests, seed data and operators use to prepare the mock."""

import pytest
from django.contrib import admin

from ministry_mock.models import Faults, ReceivedRecord, Specialist

pytestmark = pytest.mark.django_db

NEW = {
    "snils": "11111111145",
    "login": "sidorov.ss",
    "full_name": "Сидоров Семён Семёнович",
    "cycles": [{"specialty_code": "31.08.36", "starts_on": "2023-09-01", "ends_on": "2028-08-31"}],
}


def test_a_specialist_created_through_the_control_endpoint_can_link(ministry):
    response = ministry.post("_specialists", NEW)
    assert response.status_code == 201
    body = response.json()
    assert body["snils"] == "11111111145"
    assert [cycle["specialty_code"] for cycle in body["cycles"]] == ["31.08.36"]
    link = ministry.post("accounts/link", {"snils": "11111111145", "login": "sidorov.ss"})
    assert link.json() == {key: body[key] for key in ("specialist_id", "full_name", "cycles")}


def test_creating_a_specialist_twice_updates_them_so_seeding_can_run_again(ministry):
    first = ministry.post("_specialists", NEW).json()
    again = ministry.post(
        "_specialists",
        {
            **NEW,
            "full_name": "Сидоров Семён Сергеевич",
            "cycles": [
                {"specialty_code": "31.08.36", "starts_on": "2024-01-01", "ends_on": "2028-12-31"},
                {"specialty_code": "31.08.20", "starts_on": "2024-01-01", "ends_on": "2028-12-31"},
            ],
        },
    )
    assert again.status_code == 200
    body = again.json()
    assert body["specialist_id"] == first["specialist_id"]
    assert body["full_name"] == "Сидоров Семён Сергеевич"
    cycles = {cycle["specialty_code"]: cycle for cycle in body["cycles"]}
    # The cycle keeps its id: the portal may already have stored it.
    assert cycles["31.08.36"]["id"] == first["cycles"][0]["id"]
    assert cycles["31.08.36"]["starts_on"] == "2024-01-01"
    assert set(cycles) == {"31.08.36", "31.08.20"}
    assert Specialist.objects.filter(snils="11111111145").count() == 1


def test_a_login_of_another_specialist_is_refused(ministry, specialist):
    response = ministry.post("_specialists", {**NEW, "login": "PETROV.AP"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "login_taken"
    assert not Specialist.objects.filter(snils="11111111145").exists()


@pytest.mark.parametrize(
    ("cycles", "field"),
    [
        ([{"specialty_code": "31.08.36", "starts_on": "2028-01-01", "ends_on": "2023-01-01"}], "cycles[0].ends_on"),
        (
            [{"specialty_code": "cardio", "starts_on": "2023-01-01", "ends_on": "2028-01-01"}],
            "cycles[0].specialty_code",
        ),
        ([{"specialty_code": "31.08.36", "starts_on": "2023-01-01"}], "cycles[0].ends_on"),
        (
            [
                {"specialty_code": "31.08.36", "starts_on": "2023-01-01", "ends_on": "2028-01-01"},
                {"specialty_code": "31.08.36", "starts_on": "2018-01-01", "ends_on": "2022-12-31"},
            ],
            "cycles[1].specialty_code",
        ),
        ("31.08.36", "cycles"),
    ],
)
def test_impossible_cycles_are_refused_and_nothing_is_created(ministry, cycles, field):
    response = ministry.post("_specialists", {**NEW, "cycles": cycles})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Specialist.objects.filter(snils="11111111145").exists()


def test_reset_forgets_the_records_and_keeps_the_specialists(ministry, specialist):
    ministry.send_record("ledger-1")
    ministry.send_record("ledger-2")
    response = ministry.post("_reset")
    assert response.json() == {"deleted_records": 2}
    assert not ReceivedRecord.objects.exists()
    assert Specialist.objects.filter(pk=specialist.pk).exists()
    assert ministry.send_record("ledger-1").status_code == 201


def test_the_index_shows_counts_and_faults_without_personal_data(client, specialist):
    response = client.get("/ministry-mock/")
    assert response.status_code == 200
    body = response.json()
    assert body["specialists"] == Specialist.objects.count()
    assert body["faults"] == {"latency_ms": 0, "failure_rate": 0.0, "down": False}
    assert "12345678964" not in response.content.decode()


def test_an_operator_switches_the_mock_down_in_the_admin(client, staff, faults):
    client.force_login(staff)
    response = client.post(
        "/admin/ministry_mock/faults/1/change/", {"down": "on", "latency_ms": "200", "failure_rate": "0.5"}
    )
    assert response.status_code == 302
    faults.refresh_from_db()
    assert (faults.down, faults.latency_ms, faults.failure_rate) == (True, 200, 0.5)


def test_the_admin_refuses_a_failure_rate_above_one(client, staff, faults):
    client.force_login(staff)
    response = client.post("/admin/ministry_mock/faults/1/change/", {"latency_ms": "0", "failure_rate": "1.5"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    faults.refresh_from_db()
    assert faults.failure_rate == 0.0


def test_received_records_are_read_only_in_the_admin(client, staff, ministry, specialist):
    ministry.send_record("ledger-1")
    record = ReceivedRecord.objects.get()
    client.force_login(staff)
    page = client.get(f"/admin/ministry_mock/receivedrecord/{record.pk}/change/")
    assert page.status_code == 200
    assert "Конгресс психиатров" in page.content.decode()
    client.post(f"/admin/ministry_mock/receivedrecord/{record.pk}/change/", {"zet": "99"})
    record.refresh_from_db()
    assert record.zet == 6
    assert not admin.site._registry[ReceivedRecord].has_add_permission(type("R", (), {"user": staff})())


def test_every_mock_model_has_an_admin_list_that_searches_and_filters(client, staff, ministry, specialist):
    ministry.send_record("ledger-1")
    client.force_login(staff)
    for model, params in [
        ("specialist", {"q": "Петров"}),
        ("specialistcycle", {"specialty_code": "31.08.20"}),
        ("receivedrecord", {"kind": "educationElementZet", "q": "12345678964"}),
        ("faults", {}),
    ]:
        response = client.get(f"/admin/ministry_mock/{model}/", params)
        assert response.status_code == 200, model
    listing = client.get("/admin/ministry_mock/receivedrecord/", {"q": "ledger-1"}).content.decode()
    assert "Конгресс психиатров" in listing
    assert Faults.objects.count() == 1
