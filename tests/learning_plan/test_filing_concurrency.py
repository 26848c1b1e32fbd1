"""Reminders and outcomes at the same instant, on the real PostgreSQL: two beat runs send each reminder once, and
an outcome form sent twice records one new accreditation."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection

from learning_plan import filing, reminders
from learning_plan.models import AccreditationDocument, PortfolioReminder
from nmo_portal.calendar import add_months, today

from ..concurrency import run_at_once
from ..factories import AccreditationDocumentFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]

DAY = date(2026, 6, 15)


def test_beat_runs_at_the_same_instant_send_each_reminder_once(mailoutbox):
    documents = [
        AccreditationDocumentFactory(issued_on=add_months(DAY + timedelta(days=60 + i), -60)) for i in range(10)
    ]

    outcomes = run_at_once([lambda: reminders.reminders_send(DAY)] * 5)

    assert [kind for kind, _ in outcomes] == ["ok"] * 5, outcomes
    assert sum(sent for _, sent in outcomes) == 20  # 90 days left and hours short, for each of ten
    assert PortfolioReminder.objects.count() == 20
    recipients = Counter(message.to[0] for message in mailoutbox)
    assert recipients == Counter({document.doctor.email: 2 for document in documents})


def test_an_outcome_sent_twice_at_once_records_one_new_accreditation():
    document = AccreditationDocumentFactory()
    filing.filing_record(portfolio=document.portfolio, doctor=document.doctor, filed_on=today() - timedelta(days=9))

    def accredited():
        return filing.outcome_record(
            portfolio=document.portfolio,
            doctor=document.doctor,
            accredited=True,
            outcome_on=today(),
            new_number="7724 555555",
        ).filing

    outcomes = run_at_once([accredited] * 4)

    assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "outcome_already_recorded": 3}, outcomes
    assert AccreditationDocument.objects.filter(doctor=document.doctor).count() == 2
