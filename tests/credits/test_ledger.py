"""The ledger's numbering of credits: a code or a completion credits a doctor once at a time, and again only after
every earlier credit of it to that doctor has been reversed."""

import pytest
from django.db import IntegrityError, transaction

from credits.models import CreditEntry, OutboxRecord
from credits.services import ledger_adjust, ledger_append, ledger_reverse

from ..factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(ended_event, make_codes):
    (code,) = make_codes(ended_event)
    return code


def credit(doctor, code):
    event = code.event
    return ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE,
        credits=event.credits_granted,
        earned_on=event.end_date,
        actor=doctor,
        source_id=code.pk,
        activity=event,
    )


def reverse(entry):
    return ledger_reverse(credit=entry, doctor=entry.doctor, actor=None, comment="Код выдан другому СНИЛС")


def rows(doctor):
    return list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credit_number", "credits"))


def test_each_credit_after_a_reversal_takes_the_next_number(doctor, code):
    first = credit(doctor, code)
    reverse(first)
    second = credit(doctor, code)
    reverse(second)
    third = credit(doctor, code)

    assert (first.credit_number, second.credit_number, third.credit_number) == (1, 2, 3)  # as the INSERT returned
    assert rows(doctor) == [
        ("credit", 1, 12),
        ("reversal", 1, -12),
        ("credit", 2, 12),
        ("reversal", 2, -12),
        ("credit", 3, 12),
    ]
    assert OutboxRecord.objects.filter(doctor=doctor).count() == 5  # every row goes to the Ministry


def test_a_second_credit_while_one_stands_is_refused_and_writes_nothing(doctor, code):
    credit(doctor, code)

    with pytest.raises(IntegrityError), transaction.atomic():
        credit(doctor, code)

    assert rows(doctor) == [("credit", 1, 12)]
    assert OutboxRecord.objects.filter(doctor=doctor).count() == 1


def test_a_second_credit_while_the_newest_stands_is_refused_after_a_reversal_too(doctor, code):
    reverse(credit(doctor, code))
    credit(doctor, code)

    with pytest.raises(IntegrityError), transaction.atomic():
        credit(doctor, code)

    assert sum(CreditEntry.objects.filter(doctor=doctor).values_list("credits", flat=True)) == 12


def test_another_doctor_is_numbered_from_one(doctor, code, psychiatry):
    reverse(credit(doctor, code))
    other = DoctorProfileFactory(specialties=[psychiatry]).user

    assert credit(other, code).credit_number == 1
    assert credit(doctor, code).credit_number == 2


def test_adjustments_of_one_activity_are_not_numbered_against_each_other(doctor, staff, ended_event):
    for _ in range(2):
        ledger_adjust(doctor=doctor, credits=3, reason="Поправка", actor=staff, activity=ended_event)

    assert rows(doctor) == [("adjustment", 1, 3), ("adjustment", 1, 3)]
