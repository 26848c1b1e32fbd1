"""E-mail reminders about periodic accreditation, sent by a daily beat task (SPEC.md): the filing window has
opened, 90 days are left, hours are short while time runs out.

Each is sent at most once per doctor, kind and window, the window being the document it belongs to: its
PortfolioReminder row is inserted first, in the transaction that sends, and the mail goes out only when this run
inserted it. Two runs at once insert one row (the second waits on the unique index, then finds it) and send once;
a send that fails rolls its row back, so the next day's run tries again.

Nothing goes to a doctor who turned reminders off in the profile, for a portfolio already filed or accredited, or
for a document that is not the doctor's current one in its specialty. Documents are read by their expiry's index,
only those whose reminder may be due."""

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from nmo_portal.calendar import add_months, today
from nmo_portal.mail import send_templated_mail

from .filing import portfolio_path
from .models import AccreditationDocument, Portfolio, PortfolioReminder
from .portfolio import Window, specialty_portfolio, window_opens_on, window_state

logger = logging.getLogger(__name__)

Kind = PortfolioReminder.Kind

# «90 days left» is due from this many days before expiry; until then, «the window has opened» is.
DAYS_LEFT = 90
# «Hours short» is due when the alternative closest to being met is not met this many days before expiry: half a
# year is still time for a programme or an НМО activity or two, and late enough to be news.
HOURS_SHORT_DAYS = 180
# A window opens ACCREDITATION_WINDOW_MONTHS before expiry, counted in months with the month-end clamp: the
# expiry that bounds the query is read a few days wider than the months, and each document is checked exactly.
MONTH_END_SLACK = timedelta(days=3)

TEMPLATES: dict[str, str] = {
    Kind.WINDOW_OPEN: "learning_plan/email/reminder_window_open",
    Kind.DAYS_90: "learning_plan/email/reminder_days_90",
    Kind.HOURS_SHORT: "learning_plan/email/reminder_hours_short",
}


def _candidates(kind: str, day: date) -> QuerySet[AccreditationDocument]:
    """The documents whose reminder of `kind` may be due on `day` and has not been sent: a range of the expiry
    index (a document expiring today or before is past reminding), less what rules a reminder out."""
    if kind == Kind.WINDOW_OPEN:
        expiring = {
            "expires_on__gt": day + timedelta(days=DAYS_LEFT),
            "expires_on__lte": add_months(day, settings.ACCREDITATION_WINDOW_MONTHS) + MONTH_END_SLACK,
        }
    else:
        days = DAYS_LEFT if kind == Kind.DAYS_90 else HOURS_SHORT_DAYS
        expiring = {"expires_on__gt": day, "expires_on__lte": day + timedelta(days=days)}
    newer = AccreditationDocument.objects.filter(
        doctor=OuterRef("doctor"), specialty=OuterRef("specialty"), issued_on__gt=OuterRef("issued_on")
    )
    sent = PortfolioReminder.objects.filter(doctor=OuterRef("doctor"), document=OuterRef("pk"), kind=kind)
    return (
        AccreditationDocument.objects.filter(**expiring, doctor__is_active=True)
        .exclude(doctor__doctor_profile__accreditation_reminders=False)
        .exclude(portfolio__filing__in=[Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED])
        .exclude(Exists(newer))
        .exclude(Exists(sent))
        .select_related("doctor", "specialty")
        .order_by("expires_on", "pk")
    )


def due(day: date) -> Iterator[tuple[AccreditationDocument, str, dict[str, Any]]]:
    """Each reminder due on `day` and not sent yet: the document, the kind, and what its e-mail says beyond the
    document (the gaps of the closest alternative, for hours short)."""
    for document in _candidates(Kind.WINDOW_OPEN, day):
        if window_state(document, day) == Window.OPEN:
            yield document, Kind.WINDOW_OPEN, {}
    for document in _candidates(Kind.DAYS_90, day):
        yield document, Kind.DAYS_90, {}
    for document in _candidates(Kind.HOURS_SHORT, day):
        found = specialty_portfolio(doctor=document.doctor, specialty=document.specialty, day=day)
        best = found.closest
        if best is not None and not best.met:
            yield (
                document,
                Kind.HOURS_SHORT,
                {"alternative": best.alternative, "short": [c for c in best.components if c.short]},
            )


def reminder_send(*, document: AccreditationDocument, kind: str, day: date, extra: dict[str, Any]) -> bool:
    """Send one reminder unless it was sent: its row first, the mail only if this call inserted the row, both in
    one transaction so that a failed send leaves no row. True when this call sent it."""
    doctor = document.doctor
    if not doctor.email:
        return False
    context = {
        "doctor": doctor,
        "document": document,
        "specialty": document.specialty,
        "expires_on": document.expires_on,
        "window_opens_on": window_opens_on(document.expires_on),
        "days_left": (document.expires_on - day).days,
        "portfolio_url": f"{settings.SITE_URL}{portfolio_path(document.specialty.code)}",
        "profile_url": f"{settings.SITE_URL}{reverse('accounts:profile')}#reminders",
        **extra,
    }
    with transaction.atomic():
        _row, created = PortfolioReminder.objects.get_or_create(doctor=doctor, document=document, kind=kind)
        if not created:
            return False
        send_templated_mail(to=[doctor.email], template=TEMPLATES[kind], context=context, language=doctor.language)
    return True


def reminders_send(day: date) -> int:
    """Send every reminder due on `day`; returns how many were sent. A failure to send one is logged and does
    not stop the others: its row is rolled back, and it is due again the next day."""
    sent = 0
    for document, kind, extra in list(due(day)):
        try:
            sent += reminder_send(document=document, kind=kind, day=day, extra=extra)
        except Exception:
            logger.exception("Could not send the %s reminder of accreditation document %s", kind, document.pk)
    return sent


@shared_task
def send_accreditation_reminders(day: str | None = None) -> int:
    """Periodic (beat, daily): send the accreditation reminders due today (or on `day`, an ISO date)."""
    return reminders_send(date.fromisoformat(day) if day else today())
