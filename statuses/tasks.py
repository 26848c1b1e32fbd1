from datetime import datetime

from celery import shared_task
from django.urls import reverse

from nmo_portal.mail import send_templated_mail

from .models import ProgrammeStage, StatusApplication
from .reminders import send_status_reminders  # Celery's autodiscovery imports this module, not the reminders

__all__ = ["send_application_email", "send_status_reminders"]

EVENTS = ("submitted", "withdrawn", "scheduled", "result", "decided", "revoked")


@shared_task
def send_application_email(
    *,
    application_id: int,
    event: str,
    stage_id: int | None = None,
    scheduled_at: str | None = None,
    place: str | None = None,
) -> None:
    """Tell the applicant what happened to their application (`event`, one of EVENTS) or their status."""
    application = StatusApplication.objects.select_related("programme", "specialty", "doctor").get(pk=application_id)
    doctor = application.doctor
    if not doctor.email or event not in EVENTS:
        return
    stage = ProgrammeStage.objects.get(pk=stage_id) if stage_id is not None else None
    result = application.stage_results.filter(stage=stage).first() if stage is not None else None
    send_templated_mail(
        to=[doctor.email],
        template=f"statuses/email/{event}",
        context={
            "doctor": doctor,
            "application": application,
            "programme": application.programme,
            "specialty": application.specialty,
            "stage": stage,
            "result": result,
            # what the member set, as they set it (the row may have moved since)
            "scheduled_at": datetime.fromisoformat(scheduled_at)
            if scheduled_at
            else getattr(result, "scheduled_at", None),
            "place": place if place is not None else getattr(result, "place", ""),
            "status": getattr(application, "status", None),
            "path": reverse("statuses:mine"),
        },
        language=doctor.language,
    )
