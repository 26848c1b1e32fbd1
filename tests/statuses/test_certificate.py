"""The status's certificate: an A4 PDF in Russian for its holder (and the portal's administrators), naming the
holder, the number and the dates, with a QR code to the check page whose address is printed under it."""

import io
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from statuses import services

from ..factories import DoctorProfileFactory
from .awarded import award, make_status

pytestmark = pytest.mark.django_db


def _url(status):
    return reverse("statuses:certificate", args=[status.pk])


def _text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def test_the_holder_downloads_the_certificate_with_number_name_dates_and_check_address(
    client, eligible_doctor, commission_member, moscow_doctor_programme
):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    client.force_login(eligible_doctor)
    response = client.get(_url(status))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("''", 1)[1]) == f"Статус {status.number}.pdf"
    text = _text(response)
    assert "Свидетельство" in text
    assert "о присвоении статуса" in text
    assert "«Московский врач»" in text
    assert eligible_doctor.full_name in text
    assert status.number in text
    assert "31.08.20" in text
    assert f"{status.awarded_on:%d.%m.%Y}" in text
    assert f"{status.expires_on:%d.%m.%Y}" in text
    assert f"{settings.SITE_URL}/statuses/check/{status.check_token}/" in text


def test_the_certificate_is_the_same_for_a_holder_who_hides_their_name_in_public(client):
    status = make_status(public_consent=False)
    client.force_login(status.doctor)
    assert status.doctor.full_name in _text(client.get(_url(status)))


def test_another_doctor_gets_a_404_and_no_pdf(client):
    status = make_status()
    client.force_login(DoctorProfileFactory().user)
    response = client.get(_url(status))
    assert response.status_code == 404
    assert response["Content-Type"] != "application/pdf"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_gets_no_pdf(client):
    status = make_status()
    response = client.get(_url(status))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    assert b"%PDF" not in response.content


def test_an_unknown_status_is_a_404(client, doctor):
    client.force_login(doctor)
    assert client.get(reverse("statuses:certificate", args=[999999])).status_code == 404


def test_an_administrator_may_download_a_holders_certificate(client, staff):
    status = make_status()
    client.force_login(staff)
    response = client.get(_url(status))
    assert response.status_code == 200
    assert status.number in _text(response)


def test_a_revoked_status_has_no_certificate(client, staff):
    status = make_status()
    services.status_revoke(status=status, actor=staff, reason="Решение комиссии")
    client.force_login(status.doctor)
    response = client.get(_url(status))
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert "отозван" in response.content.decode()
