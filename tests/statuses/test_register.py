"""The public register: holders of a valid status who agreed to be named, filtered by specialty, 50 to a page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from statuses import services

from .awarded import make_status

pytestmark = pytest.mark.django_db

REGISTER = reverse("statuses:register")


def _rows(page) -> int:
    return page.content.decode().count("<tr data-status=")


def test_the_register_lists_consenting_holders_of_valid_statuses_only(client, staff):
    day = timezone.localdate()
    shown = make_status(last_name="Видимова")
    make_status(public_consent=False, last_name="Скрытова")
    make_status(awarded_on=day - timedelta(days=2000), expires_on=day - timedelta(days=1), last_name="Истекшева")
    services.status_revoke(status=make_status(last_name="Отозванова"), actor=staff, reason="Решение комиссии")
    page = client.get(REGISTER)
    body = page.content.decode()
    assert page.status_code == 200
    assert _rows(page) == 1
    assert "Видимова" in body
    assert shown.number in body
    assert reverse("statuses:check", args=[shown.check_token]) in body
    for hidden in ("Скрытова", "Истекшева", "Отозванова"):
        assert hidden not in body


def test_a_holder_withdrawing_consent_leaves_the_register(client):
    status = make_status(last_name="Ушедшая")
    services.status_consent_set(status=status, doctor=status.doctor, public=False)
    assert "Ушедшая" not in client.get(REGISTER).content.decode()


def test_the_register_filters_by_specialty_code(client, psychiatry, cardiology):
    make_status(code="31.08.20", last_name="Психиатрова")
    make_status(code="31.08.36", last_name="Кардиологова")
    body = client.get(REGISTER, {"specialty": "31.08.36"}).content.decode()
    assert "Кардиологова" in body
    assert "Психиатрова" not in body


@pytest.mark.parametrize("code", ["99.99.99", "x" * 500, "31.08.20'--"])
def test_an_unknown_specialty_code_says_so_and_lists_no_one(client, code):
    make_status(last_name="Психиатрова")
    page = client.get(REGISTER, {"specialty": code})
    body = page.content.decode()
    assert page.status_code == 400
    assert "Нет специальности с кодом" in body
    assert _rows(page) == 0
    assert "Психиатрова" not in body


def test_the_register_pages_by_fifty_and_survives_any_page_number(client, django_assert_max_num_queries):
    for _ in range(51):
        make_status()
    with django_assert_max_num_queries(6):
        first = client.get(REGISTER)
    assert _rows(first) == 50
    assert _rows(client.get(REGISTER, {"page": "2"})) == 1
    assert _rows(client.get(REGISTER, {"page": "abc"})) == 50
    assert _rows(client.get(REGISTER, {"page": "9" * 40})) == 1  # the last page
    assert _rows(client.get(REGISTER, {"page": "-1"})) == 1


def test_the_register_is_public_and_says_when_there_is_no_one(client):
    page = client.get(REGISTER)
    assert page.status_code == 200
    assert "data-empty" in page.content.decode()
