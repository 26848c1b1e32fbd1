"""A code released from an account and activated again by the same doctor: the doctor typed a СНИЛС, activated
the code issued to it, changed the СНИЛС (the code went back to its holder and the credit was reversed), then
put the СНИЛС back. The credit comes back once, and a credit that stands is never doubled."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import doctor_profile_update
from codes import services
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from learning_plan import services as plan_services

from ..factories import UserFactory, make_snils

pytestmark = pytest.mark.django_db

HOLDER_SNILS = make_snils(840_001)
MISTYPED_SNILS = make_snils(840_002)


def type_snils(user, snils, psychiatry):
    doctor_profile_update(
        user=user, last_name="Петров", first_name="Андрей", middle_name="", snils=snils, specialties=[psychiatry]
    )


def activate(client, code):
    return client.post(reverse("api:api-codes:activate"), {"code": code.code}, content_type="application/json")


def ledger(doctor):
    return list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credits", "credit_number"))


@pytest.fixture
def holder(psychiatry):
    """A doctor whose profile holds the СНИЛС the code was issued to, with a cycle the event counts in."""
    user = UserFactory()
    type_snils(user, HOLDER_SNILS, psychiatry)
    plan_services.cycle_add(doctor=user, specialty=psychiatry, starts_on=timezone.localdate() - timedelta(days=365))
    return user


@pytest.fixture
def released(client, holder, ended_event, make_codes, psychiatry):
    """The holder's code, activated, then released by a change of СНИЛС, and the СНИЛС put back."""
    (code,) = make_codes(ended_event, holder_snils=HOLDER_SNILS)
    client.force_login(holder)
    assert activate(client, code).status_code == 201
    type_snils(holder, MISTYPED_SNILS, psychiatry)
    code.refresh_from_db()
    assert (code.status, code.activated_by) == (IcpCode.Status.ISSUED, None)
    assert ledger(holder) == [("credit", 12, 1), ("reversal", -12, 1)]
    type_snils(holder, HOLDER_SNILS, psychiatry)
    return code


def test_a_released_code_activated_again_through_the_api_credits_once_more(client, holder, released, ended_event):
    response = activate(client, released)

    assert response.status_code == 201, response.json()
    assert response.json()["credits"] == 12
    assert ledger(holder) == [("credit", 12, 1), ("reversal", -12, 1), ("credit", 12, 2)]
    again = CreditEntry.objects.get(doctor=holder, credit_number=2)
    assert response.json()["id"] == again.pk
    released.refresh_from_db()
    assert (released.status, released.activated_by) == (IcpCode.Status.ACTIVATED, holder)
    # the new credit has an outbox row of its own, under a key the Ministry has not seen
    outbox = OutboxRecord.objects.get(entry=again)
    assert outbox.state == OutboxRecord.State.PENDING
    assert OutboxRecord.objects.filter(doctor=holder).values("idempotency_key").distinct().count() == 3
    # the plan shows the event once, with its credits once
    plan = client.get(reverse("api:api-learning_plan:plan")).json()
    (cycle,) = plan["cycles"]
    assert [(r["title"], r["credits"]) for r in cycle["records"]] == [(ended_event.title, 12)]
    assert plan["not_counted"] == []
    assert next(c for c in cycle["components"] if c["counts"] == "events")["earned"] == 12


def test_a_released_code_activated_again_on_the_page_credits_once_more(client, holder, released, ended_event):
    plan = reverse("learning_plan:plan")

    response = client.post(reverse("codes:activate"), {"code": released.code, "next": plan}, follow=True)

    assert response.redirect_chain == [(plan, 302)]
    page = response.content.decode()
    assert "Код активирован" in page
    (row,) = re.findall(rf'<tr data-record="event-{ended_event.pk}">.*?</tr>', page, re.S)  # once, not twice
    assert ended_event.title in row
    assert "data-hours>12<" in row
    assert ledger(holder) == [("credit", 12, 1), ("reversal", -12, 1), ("credit", 12, 2)]
    assert sum(CreditEntry.objects.filter(doctor=holder).values_list("credits", flat=True)) == 12


def test_a_standing_credit_is_never_doubled_by_activating_the_code_again(client, holder, released):
    assert activate(client, released).status_code == 201

    response = activate(client, released)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_already_yours"
    assert ledger(holder) == [("credit", 12, 1), ("reversal", -12, 1), ("credit", 12, 2)]
    assert OutboxRecord.objects.filter(doctor=holder).count() == 3


def test_revoking_a_code_activated_again_reverses_the_credit_that_stands(client, holder, released, staff):
    assert activate(client, released).status_code == 201

    services.code_revoke(code=released, actor=staff, reason="Выдан по ошибке")

    assert ledger(holder) == [("credit", 12, 1), ("reversal", -12, 1), ("credit", 12, 2), ("reversal", -12, 2)]
    last = CreditEntry.objects.filter(doctor=holder, kind="reversal").last()
    assert last.reverses == CreditEntry.objects.get(doctor=holder, kind="credit", credit_number=2)
    assert sum(CreditEntry.objects.filter(doctor=holder).values_list("credits", flat=True)) == 0


def test_a_released_code_does_not_keep_its_doctor_from_another_code_of_the_event(
    client, holder, released, ended_event, make_codes
):
    """One credit per doctor per event counts the credits that stand: the doctor's own second code of the event
    is taken while the first was released, and then the first is refused, not the other way round."""
    (own,) = make_codes(ended_event)

    assert activate(client, own).status_code == 201
    response = activate(client, released)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "event_already_credited"
    assert own.display in response.json()["error"]["message"]
    released.refresh_from_db()
    assert released.status == IcpCode.Status.ISSUED
    assert sum(CreditEntry.objects.filter(doctor=holder).values_list("credits", flat=True)) == 12
