"""The check page a certificate's QR code opens: found by its random token only, telling anyone whether the status
is valid, expired or revoked today, and naming the holder only when they agreed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statuses import services

from .awarded import award, make_status

pytestmark = pytest.mark.django_db


def _check(client, status):
    return client.get(reverse("statuses:check", args=[status.check_token]))


def test_the_check_page_says_a_fresh_status_is_valid_and_names_the_consenting_holder(
    client, eligible_doctor, commission_member, moscow_doctor_programme
):
    status = award(doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme)
    page = _check(client, status)
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-verdict="valid"' in body
    assert "Статус действителен" in body
    assert status.number in body
    assert "Московский врач" in body
    assert "31.08.20" in body
    assert eligible_doctor.full_name in body
    assert "скрыто" not in body


def test_the_check_page_hides_the_name_of_a_holder_who_did_not_agree(
    client, eligible_doctor, commission_member, moscow_doctor_programme
):
    status = award(
        doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme, public_consent=False
    )
    body = _check(client, status).content.decode()
    assert 'data-verdict="valid"' in body
    assert "ФИО скрыто по желанию владельца" in body
    assert eligible_doctor.last_name not in body
    assert eligible_doctor.first_name not in body


def test_the_name_appears_once_the_holder_agrees(client, eligible_doctor, commission_member, moscow_doctor_programme):
    status = award(
        doctor=eligible_doctor, member=commission_member, programme=moscow_doctor_programme, public_consent=False
    )
    services.status_consent_set(status=status, doctor=eligible_doctor, public=True)
    assert eligible_doctor.full_name in _check(client, status).content.decode()


def test_a_status_past_its_expiry_shows_as_expired(client):
    day = timezone.localdate()
    status = make_status(awarded_on=day - timedelta(days=6 * 365), expires_on=day - timedelta(days=30))
    body = _check(client, status).content.decode()
    assert 'data-verdict="expired"' in body
    assert "Срок действия статуса истёк" in body
    assert 'data-verdict="valid"' not in body


def test_a_status_is_valid_the_day_before_its_expiry_and_expired_on_that_day(client, monkeypatch):
    status = make_status()
    monkeypatch.setattr("statuses.public_views.today", lambda: status.expires_on - timedelta(days=1))
    assert 'data-verdict="valid"' in _check(client, status).content.decode()
    monkeypatch.setattr("statuses.public_views.today", lambda: status.expires_on)
    assert 'data-verdict="expired"' in _check(client, status).content.decode()


def test_a_revoked_status_shows_as_revoked_with_the_date_but_not_the_reason(client, staff):
    status = make_status()
    services.status_revoke(status=status, actor=staff, reason="Подложный диплом")
    body = _check(client, status).content.decode()
    assert 'data-verdict="revoked"' in body
    assert "Статус отозван" in body
    assert "data-revoked" in body
    assert "Подложный диплом" not in body


def test_an_unknown_token_is_a_404_that_names_nothing(client):
    make_status()
    page = client.get(reverse("statuses:check", args=["no-such-token"]))
    assert page.status_code == 404
    assert "Статус по этой ссылке не найден" in page.content.decode()


def test_the_status_number_does_not_open_the_check_page(client):
    status = make_status()
    page = client.get(reverse("statuses:check", args=[status.number]))
    assert page.status_code == 404
    assert status.doctor.full_name not in page.content.decode()


def test_an_overlong_token_is_a_404_not_an_error(client):
    assert client.get(reverse("statuses:check", args=["x" * 5000])).status_code == 404


def test_the_check_page_is_neither_indexed_nor_cached(client):
    status = make_status()
    for page in (_check(client, status), client.get(reverse("statuses:check", args=["nothing"]))):
        assert "noindex" in page["X-Robots-Tag"]
        assert "no-store" in page["Cache-Control"]
        assert "private" in page["Cache-Control"]
