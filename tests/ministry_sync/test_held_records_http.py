"""Reading the records the Ministry holds over real HTTP (the mock at a live server), as the worker does: the
portal's client reads the answer up to its bound and no further."""

from datetime import date

import pytest

from ministry_mock.models import ReceivedRecord, Specialist
from ministry_sync import services
from ministry_sync.models import HeldRecord, MinistryLink
from ministry_sync.selectors import held_records_read_at

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def over_http(settings, live_server):
    settings.MINISTRY_API_TOKEN = "t"
    settings.MINISTRY_API_URL = f"{live_server.url}/ministry-mock"


def test_the_records_are_read_over_http_and_an_answer_past_the_bound_is_refused_unread(
    over_http, doctor, settings, monkeypatch
):
    specialist = Specialist.objects.create(snils=doctor.doctor_profile.snils, login="petrov.ap", full_name="Петров")
    MinistryLink.objects.create(doctor=doctor, login="petrov.ap", state=MinistryLink.State.LINKED)
    ReceivedRecord.objects.create(
        specialist=specialist,
        idempotency_key="frmr-1",
        kind="trainingProgrammeZet",
        zet=36,
        title="Психиатрия: неотложные состояния",
        earned_on=date(2025, 3, 1),
        payload={"specialty_code": "31.08.20"},
    )

    assert services.held_records_refresh(doctor.pk) == 1

    row = HeldRecord.objects.get(doctor=doctor)
    assert (row.idempotency_key, row.hours, row.specialty_code) == ("frmr-1", 36, "31.08.20")
    read_at = held_records_read_at(doctor)

    ReceivedRecord.objects.filter(idempotency_key="frmr-1").update(title="Т" * 500)
    settings.MINISTRY_HELD_RECORDS_MAX = 1
    monkeypatch.setattr(services, "HELD_RECORD_MAX_BYTES", 60)  # 1020 bytes: less than the title alone
    with pytest.raises(services.HeldRecordsRefused):
        services.held_records_refresh(doctor.pk)

    assert HeldRecord.objects.get(doctor=doctor).title == "Психиатрия: неотложные состояния"
    assert held_records_read_at(doctor) == read_at
