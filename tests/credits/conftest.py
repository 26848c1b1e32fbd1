import pytest
from django.utils import timezone

from credits.models import CreditEntry
from credits.services import ledger_append


@pytest.fixture
def adjustments(staff):
    """`adjustments(doctor, count)`: that many one-credit adjustments by an administrator, each written with its
    outbox row as any ledger row is."""

    def make(doctor, count: int) -> list[CreditEntry]:
        return [
            ledger_append(
                doctor=doctor,
                kind=CreditEntry.Kind.ADJUSTMENT,
                source=CreditEntry.Source.ADJUSTMENT,
                credits=1,
                earned_on=timezone.localdate(),
                actor=staff,
                comment="Перенос",
            )
            for _ in range(count)
        ]

    return make
