"""Receiving education records: once per idempotency key, filed under the cycle they belong to."""

import pytest

from ministry_mock import services
from ministry_mock.models import ReceivedRecord

pytestmark = pytest.mark.django_db


def test_a_record_sent_twice_with_one_key_is_stored_once(ministry, specialist):
    first = ministry.send_record("ledger-1")
    again = ministry.send_record("ledger-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    record = ReceivedRecord.objects.get()
    assert first.json() == {"id": record.id, "cycle_id": record.cycle_id, "idempotency_key": "ledger-1"}
    assert record.specialist == specialist
    assert (record.kind, record.zet, record.title, record.source_ref) == (
        "educationElementZet",
        6,
        "Конгресс психиатров",
        "ICP-ABCD-1234",
    )
    assert record.payload["earned_on"] == "2025-03-14"


def test_a_repeated_key_answers_with_the_first_record_whatever_the_body_says_now(ministry, specialist):
    first = ministry.send_record("ledger-1", zet=6)
    again = ministry.send_record("ledger-1", zet=99, title="Другое")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert list(ReceivedRecord.objects.values_list("zet", "title")) == [(6, "Конгресс психиатров")]


def test_different_keys_are_different_records(ministry, specialist):
    assert ministry.send_record("ledger-1").status_code == 201
    assert ministry.send_record("ledger-2").status_code == 201
    assert ReceivedRecord.objects.count() == 2


def test_a_record_without_an_idempotency_key_is_400_and_not_stored(ministry, specialist):
    response = ministry.send_record(None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"
    assert not ReceivedRecord.objects.exists()


def test_an_overlong_idempotency_key_is_400(ministry, specialist):
    response = ministry.send_record("k" * 201)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not ReceivedRecord.objects.exists()


def test_a_record_of_an_unknown_specialist_is_404_and_not_stored(ministry, specialist):
    response = ministry.send_record("ledger-1", snils="11111111145")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "specialist_not_found"
    assert not ReceivedRecord.objects.exists()


def test_an_invalid_record_is_400_naming_every_bad_field(ministry, specialist):
    response = ministry.send_record(
        "ledger-1", kind="bonusZet", zet="6", title="", earned_on="14.03.2025", specialty_code="psychiatry"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"kind", "zet", "title", "earned_on", "specialty_code"}
    assert not ReceivedRecord.objects.exists()


def test_a_record_is_filed_under_the_cycle_of_its_specialty_that_covers_its_date(ministry, specialist):
    psychiatry = specialist.cycles.get(specialty_code="31.08.20")
    cardiology = specialist.cycles.get(specialty_code="31.08.36")
    assert ministry.send_record("a", earned_on="2025-03-14").json()["cycle_id"] == psychiatry.id
    assert ministry.send_record("b", specialty_code="31.08.36").json()["cycle_id"] == cardiology.id
    # Before the psychiatry cycle began, and in a specialty the specialist has no cycle in: no cycle.
    assert ministry.send_record("c", earned_on="2023-12-31").json()["cycle_id"] is None
    assert ministry.send_record("d", specialty_code="31.08.49").json()["cycle_id"] is None
    assert ReceivedRecord.objects.filter(cycle__isnull=True).count() == 2


def test_progress_sums_zet_per_kind_and_reversals_subtract(ministry, specialist):
    ministry.send_record("1", kind="iomZet", zet=4)
    ministry.send_record("2", kind="iomZet", zet=2)
    ministry.send_record("3", kind="educationElementZet", zet=6)
    ministry.send_record("4", kind="educationElementZet", zet=-6, title="Отзыв кода")
    ministry.send_record("5", kind="trainingProgrammeZet", zet=36)
    response = ministry.get("specialists/12345678964/records")
    assert response.status_code == 200
    body = response.json()
    assert body["progress"] == {"iomZet": 6, "trainingProgrammeZet": 36, "educationElementZet": 0, "otherZet": 0}
    assert [record["idempotency_key"] for record in body["records"]] == ["1", "2", "3", "4", "5"]
    reversal = body["records"][3]
    assert (reversal["zet"], reversal["title"], reversal["earned_on"]) == (-6, "Отзыв кода", "2025-03-14")


def test_each_listed_record_names_its_specialty_by_its_cycle_or_else_as_it_was_sent(ministry, specialist):
    ministry.send_record("in-cycle", specialty_code="31.08.36", earned_on="2022-05-01")
    ministry.send_record("before-cycle", specialty_code="31.08.20", earned_on="2023-12-31")
    ministry.send_record("no-cycle", specialty_code="31.08.49")
    body = ministry.get("specialists/12345678964/records").json()
    assert [(r["idempotency_key"], r["cycle_id"] is not None, r["specialty_code"]) for r in body["records"]] == [
        ("in-cycle", True, "31.08.36"),
        ("before-cycle", False, "31.08.20"),
        ("no-cycle", False, "31.08.49"),
    ]


def test_the_records_of_another_specialist_are_not_listed(ministry, specialist):
    ministry.send_record("mine")
    ministry.post("_specialists", {"snils": "11111111145", "login": "other", "full_name": "Сидоров С. С."})
    ministry.send_record("theirs", snils="11111111145", kind="otherZet", zet=3)
    body = ministry.get("specialists/11111111145/records").json()
    assert [record["idempotency_key"] for record in body["records"]] == ["theirs"]
    assert body["progress"]["otherZet"] == 3
    assert body["progress"]["educationElementZet"] == 0


def test_the_records_of_an_unknown_specialist_are_404(ministry, specialist):
    response = ministry.get("specialists/11111111145/records")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "specialist_not_found"


def test_listing_records_takes_the_same_queries_for_many_records(ministry, specialist, django_assert_max_num_queries):
    for key in range(20):
        ministry.send_record(str(key))
    with django_assert_max_num_queries(3):  # faults, specialist, records
        assert len(ministry.get("specialists/12345678964/records").json()["records"]) == 20


def test_losing_the_race_for_a_key_answers_with_the_winners_record(ministry, specialist, monkeypatch):
    """Two requests with one key both find nothing stored; the second insert hits the unique constraint."""
    winner = ministry.send_record("ledger-1")
    real_lookup = services._stored_record
    lookups = []

    def lookup_missing_the_first_time(key):
        lookups.append(key)
        return None if len(lookups) == 1 else real_lookup(key)

    monkeypatch.setattr(services, "_stored_record", lookup_missing_the_first_time)
    loser = ministry.send_record("ledger-1")
    assert loser.status_code == 200
    assert loser.json() == winner.json()
    assert len(lookups) == 2
    assert ReceivedRecord.objects.count() == 1
