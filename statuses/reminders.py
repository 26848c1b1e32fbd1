"""E-mail reminders before a status expires, sent by a daily beat task: at each lead of
settings.STATUS_REMINDER_DAYS (180 and 30 days by default), saying when the status expires and from when it can
be renewed.

Each is sent at most once per status and lead: its StatusReminder row is inserted first, in the transaction that
sends, and the mail goes out only when this run inserted it. Two runs at once insert one row and send once; a
send that fails rolls its row back, so the next day's run tries again. A lead is due from its day until the next
shorter lead's: a status found 25 days before expiry (awarded for a short term, or the beat down for months) gets
the 30-day reminder only, not both at once.

Nothing goes for a revoked or expired status, nor once the holder has applied to renew it (an open application
that renews it, or one that renewed it already)."""

import logging
from collections.abc import Iterator
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from nmo_portal.calendar import today
from nmo_portal.mail import send_templated_mail

from .models import Status, StatusApplication, StatusReminder

logger = logging.getLogger(__name__)

TEMPLATE = "statuses/email/reminder"
RENEWING = (StatusApplication.State.OPEN, StatusApplication.State.AWARDED)


def leads() -> list[int]:
    """The days before expiry at which a reminder is sent, longest first."""
    return sorted({days for days in settings.STATUS_REMINDER_DAYS if days > 0}, reverse=True)


def _candidates(days: int, shorter: int, day: date) -> QuerySet[Status]:
    """Statuses whose reminder `days` before expiry is due on `day`: expiring in more than `shorter` days (the
    next lead's turn) and at most `days`, valid, not being renewed, and not reminded at this lead yet."""
    renewing = StatusApplication.objects.filter(renews=OuterRef("pk"), state__in=RENEWING)
    sent = StatusReminder.objects.filter(status=OuterRef("pk"), days=days)
    return (
        Status.objects.valid_on(day)
        .filter(
            expires_on__gt=day + timedelta(days=shorter),
            expires_on__lte=day + timedelta(days=days),
            doctor__is_active=True,
        )
        .exclude(Exists(renewing))
        .exclude(Exists(sent))
        .select_related("programme", "specialty", "doctor")
        .order_by("expires_on", "pk")
    )


def due(day: date) -> Iterator[tuple[Status, int]]:
    """Each reminder due on `day` and not sent yet: the status and the lead in days."""
    found = leads()
    for index, days in enumerate(found):
        shorter = found[index + 1] if index + 1 < len(found) else 0
        for status in _candidates(days, shorter, day):
            yield status, days


def reminder_send(*, status: Status, days: int, day: date) -> bool:
    """Send one reminder unless it was sent: its row first, the mail only if this call inserted the row, both in
    one transaction so that a failed send leaves no row. True when this call sent it."""
    doctor = status.doctor
    if not doctor.email:
        return False
    opens_on = status.renewal_opens_on()
    context = {
        "doctor": doctor,
        "status": status,
        "programme": status.programme,
        "specialty": status.specialty,
        "expires_on": status.expires_on,
        "days_left": (status.expires_on - day).days,
        "renewal_opens_on": opens_on,
        "renewal_open": day >= opens_on,
        "programme_url": f"{settings.SITE_URL}{reverse('statuses:programme', args=[status.programme.slug])}",
        "path": reverse("statuses:mine"),
    }
    with transaction.atomic():
        _row, created = StatusReminder.objects.get_or_create(status=status, days=days)
        if not created:
            return False
        send_templated_mail(to=[doctor.email], template=TEMPLATE, context=context, language=doctor.language)
    return True


def reminders_send(day: date) -> int:
    """Send every status reminder due on `day`; returns how many were sent. A failure to send one is logged and
    does not stop the others: its row is rolled back, and it is due again the next day."""
    sent = 0
    for status, days in list(due(day)):
        try:
            sent += reminder_send(status=status, days=days, day=day)
        except Exception:
            logger.exception("Could not send the %s-day reminder of status %s", days, status.pk)
    return sent


@shared_task
def send_status_reminders(day: str | None = None) -> int:
    """Periodic (beat, daily): send the status reminders due today (or on `day`, an ISO date)."""
    return reminders_send(date.fromisoformat(day) if day else today())
