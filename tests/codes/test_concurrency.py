"""The evening after a congress: many requests at the same instant, on the real PostgreSQL."""

from collections import Counter

import pytest
from django.db import connection

from accounts.services import doctor_profile_update
from codes import issuance, services
from codes.models import IcpCode
from credits.models import CreditEntry

from ..concurrency import run_at_once
from ..factories import DoctorProfileFactory, UserFactory, make_snils

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]


def test_fifty_doctors_activating_one_code_at_the_same_instant_get_exactly_one_credit(
    ended_event, make_codes, psychiatry
):
    (code,) = make_codes(ended_event)
    doctors = [DoctorProfileFactory(specialties=[psychiatry]).user for _ in range(50)]
    outcomes = run_at_once([lambda d=d: services.code_activate(user=d, raw=code.code, ip=None) for d in doctors])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "code_taken": 49}, outcomes
    assert CreditEntry.objects.count() == 1
    code.refresh_from_db()
    winner = next(result for kind, result in outcomes if kind == "ok")
    assert code.activated_by_id == winner.doctor_id


def test_the_same_doctor_double_clicking_gets_one_credit(ended_event, make_codes, doctor):
    (code,) = make_codes(ended_event)
    outcomes = run_at_once([lambda: services.code_activate(user=doctor, raw=code.code, ip=None)] * 10)
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "code_already_yours": 9}, outcomes
    assert CreditEntry.objects.filter(doctor=doctor).count() == 1


def test_one_doctor_with_two_codes_of_one_event_at_once_gets_one_credit(ended_event, make_codes, doctor):
    codes = make_codes(ended_event, 8)
    outcomes = run_at_once([lambda c=c: services.code_activate(user=doctor, raw=c.code, ip=None) for c in codes])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "event_already_credited": 7}, outcomes
    assert IcpCode.objects.filter(status=IcpCode.Status.ACTIVATED).count() == 1
    assert CreditEntry.objects.filter(doctor=doctor).count() == 1


def test_the_same_doctor_activating_a_released_code_again_at_once_is_credited_once_more(
    ended_event, make_codes, psychiatry
):
    holder_snils, mistyped = make_snils(850_001), make_snils(850_002)
    (code,) = make_codes(ended_event, holder_snils=holder_snils)
    doctor = UserFactory()

    def type_snils(snils):
        doctor_profile_update(
            user=doctor, last_name="Петров", first_name="Андрей", middle_name="", snils=snils, specialties=[psychiatry]
        )

    type_snils(holder_snils)
    services.code_activate(user=doctor, raw=code.code, ip=None)
    type_snils(mistyped)  # the code goes back to its holder, the credit is reversed
    type_snils(holder_snils)

    outcomes = run_at_once([lambda: services.code_activate(user=doctor, raw=code.code, ip=None)] * 10)

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "code_already_yours": 9}, outcomes
    assert list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credit_number")) == [
        ("credit", 1),
        ("reversal", 1),
        ("credit", 2),
    ]


@pytest.mark.parametrize(
    ("sync_limit", "size"), [(1000, 400), (100, 150)], ids=["written-in-the-request", "written-by-the-task"]
)
def test_twenty_parallel_uploads_of_one_list_give_one_code_and_one_email_per_person(
    ended_event, mailoutbox, settings, sync_limit, size
):
    from codes.attendees import Attendee

    settings.ICP_SYNC_ISSUE_LIMIT = sync_limit
    provider = ended_event.organization.memberships.get().user
    attendees = [
        Attendee(full_name=f"Участник {i}", email=f"person{i}@example.org", snils=make_snils(5000 + i), row=i + 2)
        for i in range(size)
    ]

    def upload():
        return issuance.codes_issue(event=ended_event, actor=provider, attendees=attendees).requested

    outcomes = run_at_once([upload] * 20)

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "codes_already_held": 19}, outcomes
    assert next(result for kind, result in outcomes if kind == "ok") == size
    holders = Counter(IcpCode.objects.filter(event=ended_event).values_list("holder_email", flat=True))
    assert len(holders) == size
    assert set(holders.values()) == {1}
    recipients = Counter(message.to[0] for message in mailoutbox)
    assert len(recipients) == size
    assert set(recipients.values()) == {1}


def test_periodic_mailing_runs_at_once_mail_each_certificate_once(ended_event, make_codes, mailoutbox):
    from codes.certificates import mail_due_certificates
    from codes.models import IssuanceBatch

    batch = IssuanceBatch.objects.create(
        event=ended_event, kind=IssuanceBatch.Kind.ATTENDEES, requested=30, state=IssuanceBatch.State.DONE
    )
    for i, code in enumerate(make_codes(ended_event, 30)):
        IcpCode.objects.filter(pk=code.pk).update(batch=batch, holder_email=f"person{i}@example.org")
    outcomes = run_at_once([mail_due_certificates] * 5)

    assert [kind for kind, _ in outcomes] == ["ok"] * 5, outcomes  # no sweep crashed on another's rows
    recipients = Counter(message.to[0] for message in mailoutbox)
    assert len(recipients) == 30
    assert set(recipients.values()) == {1}
    batch.refresh_from_db()
    assert batch.mailed_at is not None
