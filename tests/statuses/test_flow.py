"""The whole path of one application through the services: submitted, three stages in order, awarded."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from statuses import services
from statuses.models import Status, StatusApplication


def test_application_runs_from_submission_to_an_awarded_status(
    eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _run(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    day = timezone.localdate()
    status = Status.objects.get(doctor=eligible_doctor)
    assert status.number == f"МВ-{day.year}-000001"
    assert status.awarded_on == day
    assert (status.expires_on - day).days in (1826, 1827)
    assert status.public_consent is True
    assert len(status.check_token) >= 32
    assert status.number not in status.check_token
    assert [m.to for m in mail.outbox] == [[eligible_doctor.email]] * 6  # submitted, scheduled, 3 results, award
    assert "МВ-" in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action__startswith="status_application.").count() == 6


def _run(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry):
    application = services.application_submit(
        doctor=eligible_doctor, programme=moscow_doctor_programme, specialty=psychiatry, public_consent=True
    )
    assert application.state == StatusApplication.State.OPEN
    assert application.snapshot["specialty"]["code"] == "31.08.20"
    assert application.snapshot["practice"]["years"] == 6
    stages = list(moscow_doctor_programme.stages.order_by("position"))
    day = timezone.localdate()
    services.stage_schedule(
        application=application,
        stage=stages[0],
        user=commission_member,
        scheduled_at=timezone.now() + timedelta(days=3),
        place="Москва, ул. Шарикоподшипниковская, 9",
    )
    services.stage_result_record(
        application=application, stage=stages[0], user=commission_member, held_on=day, score="80"
    )
    services.stage_result_record(
        application=application, stage=stages[1], user=commission_member, held_on=day, passed=True
    )
    services.stage_result_record(
        application=application, stage=stages[2], user=commission_member, held_on=day, passed=True
    )
    services.application_decide(application=application, user=commission_member, award=True)
