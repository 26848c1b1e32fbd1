"""Typing a СНИЛС while the Ministry link confirms it for its owner, on the real PostgreSQL."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import DoctorProfile
from accounts.services import doctor_profile_update, snils_confirm

from ..concurrency import run_at_once
from ..factories import DoctorProfileFactory, UserFactory, make_snils

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the lock on a СНИЛС is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]

SNILS = make_snils(850_001)


def test_accounts_typing_a_snils_while_its_owner_confirms_it_never_keep_it(psychiatry):
    owner = DoctorProfileFactory(snils=SNILS).user
    squatters = [UserFactory() for _ in range(12)]

    def type_it(user):
        doctor_profile_update(
            user=user, last_name="Иванов", first_name="Иван", middle_name="", snils=SNILS, specialties=[psychiatry]
        )

    outcomes = run_at_once(
        [lambda: snils_confirm(user=owner, snils=SNILS)] + [lambda u=u: type_it(u) for u in squatters]
    )

    confirmation, *typed = outcomes
    assert confirmation[0] == "ok", outcomes  # the owner's confirmation always wins
    kinds = Counter(kind for kind, _ in typed)
    assert sum(kinds.values()) == 12
    assert set(kinds) <= {"ok", "snils_taken"}, outcomes  # before the confirmation: kept for now; after: refused
    # Whoever typed it before the confirmation lost it to the owner; whoever came after was refused.
    assert list(DoctorProfile.objects.filter(snils=SNILS).values_list("user_id", flat=True)) == [owner.pk]
    assert DoctorProfile.objects.get(user=owner).snils_confirmed_at is not None


def test_completions_reported_while_the_owner_confirms_the_snils_all_reach_the_owner(psychiatry):
    from credits.models import CreditEntry
    from modules.models import ModuleCompletion
    from modules.services import completion_report

    from ..factories import MembershipFactory, ModuleFactory

    membership = MembershipFactory()
    modules = [
        ModuleFactory(organization=membership.organization, approved=True, hours=2, credits_requested=2)
        for _ in range(10)
    ]
    owner = DoctorProfileFactory(snils=SNILS, specialties=[psychiatry]).user
    yesterday = timezone.now() - timedelta(days=1)

    def report(module):
        completion_report(
            module=module, actor=membership.user, external_id=f"lms-{module.pk}", completed_at=yesterday, snils=SNILS
        )

    outcomes = run_at_once([lambda: snils_confirm(user=owner, snils=SNILS)] + [lambda m=m: report(m) for m in modules])

    assert Counter(kind for kind, _ in outcomes) == {"ok": 11}
    assert ModuleCompletion.objects.filter(doctor=owner).count() == 10  # none left waiting
    assert CreditEntry.objects.filter(doctor=owner, kind="credit").count() == 10
