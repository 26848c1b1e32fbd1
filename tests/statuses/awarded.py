"""Statuses for the tests of the status's public side: one awarded through the services as the commission
awards it, or many made directly (a register of fifty holders need not sit fifty assessments)."""

from datetime import date, timedelta
from itertools import count

from django.utils import timezone

from statuses import services
from statuses.models import Status, StatusApplication, StatusProgramme

from ..factories import UserFactory, specialty

_numbers = count(1)


def award(*, doctor, member, programme, public_consent=True) -> Status:
    """Submit, pass the three stages and award, as tests/statuses/test_flow.py does."""
    psychiatry = specialty("31.08.20")
    application = services.application_submit(
        doctor=doctor, programme=programme, specialty=psychiatry, public_consent=public_consent
    )
    day = timezone.localdate()
    stages = list(programme.stages.order_by("position"))
    services.stage_result_record(application=application, stage=stages[0], user=member, held_on=day, score="90")
    for stage in stages[1:]:
        services.stage_result_record(application=application, stage=stage, user=member, held_on=day, passed=True)
    services.application_decide(application=application, user=member, award=True)
    return Status.objects.select_related("programme", "specialty", "doctor").get(application=application)


def make_status(
    *,
    doctor=None,
    code: str = "31.08.20",
    public_consent: bool = True,
    awarded_on: date | None = None,
    expires_on: date | None = None,
    **user_fields,
) -> Status:
    """A status as the decision leaves it, written directly: its awarded application and the status."""
    programme = StatusProgramme.objects.get(slug="moscow-doctor")
    doctor = doctor or UserFactory(**user_fields)
    awarded_on = awarded_on or timezone.localdate()
    expires_on = expires_on or Status.expiry_of(awarded_on, programme.validity_years)
    application = StatusApplication.objects.create(
        programme=programme,
        specialty=specialty(code),
        doctor=doctor,
        state=StatusApplication.State.AWARDED,
        closed_at=timezone.now() - timedelta(minutes=1),
        public_consent=public_consent,
    )
    return Status.objects.create(
        programme=programme,
        specialty=application.specialty,
        doctor=doctor,
        application=application,
        number=f"МВ-{awarded_on.year}-9{next(_numbers):05d}",
        awarded_on=awarded_on,
        expires_on=expires_on,
        public_consent=public_consent,
    )
