"""The ledger's numbering under concurrency, on the real PostgreSQL: credits of one source written at the same
instant with no lock of their own leave one."""

from collections import Counter

import pytest
from django.db import connection

from credits.models import CreditEntry
from credits.services import ledger_append, ledger_reverse

from ..concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]


def test_credits_of_a_reversed_source_written_at_the_same_instant_leave_one(doctor, ended_event, make_codes):
    """No caller holds the code's row here: the number each credit computes is the same, and the unique
    constraint keeps one. (Activation holds it anyway: see tests/codes/test_concurrency.py.)"""
    (code,) = make_codes(ended_event)

    def credit():
        return ledger_append(
            doctor=doctor,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.CODE,
            credits=12,
            earned_on=ended_event.end_date,
            actor=doctor,
            source_id=code.pk,
            activity=ended_event,
        )

    ledger_reverse(credit=credit(), doctor=doctor, actor=None, comment="Код выдан другому СНИЛС")

    outcomes = run_at_once([credit] * 10)

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "IntegrityError": 9}, outcomes
    assert list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credit_number", "credits")) == [
        ("credit", 1, 12),
        ("reversal", 1, -12),
        ("credit", 2, 12),
    ]


def test_two_sweeps_at_the_same_instant_take_each_due_row_once(doctor, adjustments, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from credits import tasks
    from credits.models import OutboxRecord

    monkeypatch.setattr(tasks, "SWEEP_BATCH", 4)
    entries = adjustments(doctor, 6)
    OutboxRecord.objects.filter(entry__in=entries).update(
        announced_at=None, announce_attempts=1, announce_due_at=timezone.now() - timedelta(seconds=1)
    )
    queued = []
    monkeypatch.setattr(tasks.announce_credit_entry, "delay", lambda **kwargs: queued.append(kwargs["entry_id"]))

    outcomes = run_at_once([tasks.announce_missed] * 2)

    assert sorted(outcomes) == [("ok", 2), ("ok", 4)], outcomes  # one took a batch, the other what was left
    assert sorted(queued) == sorted(entry.pk for entry in entries)
