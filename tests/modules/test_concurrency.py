"""Claims of held completions at the same instant, on the real PostgreSQL."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.services import doctor_profile_update, snils_confirm, snils_unconfirm
from credits.models import CreditEntry
from modules.services import completion_report

from ..concurrency import run_at_once
from ..factories import StaffFactory, UserFactory
from .conftest import ANOTHER_UNREGISTERED_SNILS, UNREGISTERED_SNILS

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]


def test_a_reversed_completion_claimed_again_from_several_places_at_once_is_credited_once_more(
    module, membership, psychiatry
):
    completion_report(
        module=module,
        actor=membership.user,
        external_id="lms-1",
        completed_at=timezone.now() - timedelta(days=1),
        snils=UNREGISTERED_SNILS,
    )
    doctor = UserFactory()

    def type_snils(snils):
        doctor_profile_update(
            user=doctor, last_name="Новикова", first_name="Анна", middle_name="", snils=snils, specialties=[psychiatry]
        )

    type_snils(UNREGISTERED_SNILS)
    snils_confirm(user=doctor, snils=UNREGISTERED_SNILS)
    snils_unconfirm(user=doctor, actor=StaffFactory())
    type_snils(ANOTHER_UNREGISTERED_SNILS)  # the completion's credit is reversed
    type_snils(UNREGISTERED_SNILS)

    # the link confirming the number, and profile saves, each claiming what is held once it commits
    outcomes = run_at_once(
        [lambda: snils_confirm(user=doctor, snils=UNREGISTERED_SNILS)] * 4
        + [lambda: type_snils(UNREGISTERED_SNILS)] * 4
    )

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 8}, outcomes
    assert list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credit_number")) == [
        ("credit", 1),
        ("reversal", 1),
        ("credit", 2),
    ]
