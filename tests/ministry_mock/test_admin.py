"""The mock's records in the admin, as an operator reads them."""

import datetime

import pytest
from django.urls import reverse

from ministry_mock.models import ReceivedRecord

from ..factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "received", "earned"),
    [("ru", "Дата поступления", "Дата получения"), ("en", "Received", "Earned on")],
)
def test_the_received_records_list_names_its_two_dates_differently(
    client, settings, specialist, language, received, earned
):
    ReceivedRecord.objects.create(
        specialist=specialist,
        idempotency_key="k1",
        kind="educationElementZet",
        zet=6,
        title="Конгресс",
        earned_on=datetime.date(2025, 3, 14),
    )
    client.force_login(StaffFactory(is_superuser=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get(reverse("admin:ministry_mock_receivedrecord_changelist")).content.decode()

    headers = page.split('id="result_list"')[1].split("</thead>")[0]
    assert headers.count(received) == 1
    assert headers.count(earned) == 1
