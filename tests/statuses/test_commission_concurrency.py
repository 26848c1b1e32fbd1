"""Two members of one commission deciding on one application at the same instant, on the real PostgreSQL."""

from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from statuses import services
from statuses.models import Status, StatusApplication

from ..concurrency import run_at_once
from ..factories import CommissionMemberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]


def _passed_application(doctor, member, programme, specialty):
    application = services.application_submit(doctor=doctor, programme=programme, specialty=specialty)
    day = timezone.localdate()
    test, practical, interview = programme.stages.order_by("position")
    services.stage_result_record(application=application, stage=test, user=member, held_on=day, score="90")
    services.stage_result_record(application=application, stage=practical, user=member, held_on=day, passed=True)
    services.stage_result_record(application=application, stage=interview, user=member, held_on=day, passed=True)
    return application


def test_two_members_awarding_at_the_same_instant_make_one_decision_and_one_status(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    other_member = CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry).user
    application = _passed_application(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    outcomes = run_at_once(
        [
            lambda m=m: services.application_decide(application=application, user=m, award=True)
            for m in (commission_member, other_member)
        ]
    )

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "application_closed": 1}, outcomes
    assert Status.objects.count() == 1
    application.refresh_from_db()
    assert application.state == StatusApplication.State.AWARDED
    assert application.decided_by == (commission_member if outcomes[0][0] == "ok" else other_member)


def test_an_award_and_a_refusal_at_the_same_instant_make_one_decision(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    other_member = CommissionMemberFactory(programme=moscow_doctor_programme, specialty=psychiatry).user
    application = _passed_application(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    outcomes = run_at_once(
        [
            lambda: services.application_decide(application=application, user=commission_member, award=True),
            lambda: services.application_decide(
                application=application, user=other_member, award=False, comment="Не защищено."
            ),
        ]
    )

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "application_closed": 1}, outcomes
    application.refresh_from_db()
    winner = commission_member if outcomes[0][0] == "ok" else other_member
    assert application.decided_by == winner
    assert application.state in (StatusApplication.State.AWARDED, StatusApplication.State.REFUSED)
    expected_statuses = 1 if application.state == StatusApplication.State.AWARDED else 0
    assert Status.objects.filter(application=application).count() == expected_statuses
