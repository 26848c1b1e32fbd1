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
from dataclasses import dataclass
from datetime import date, timedelta
from time import monotonic
from typing import Any

from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from nmo_portal.calendar import add_months, today
from nmo_portal.mail import templated_message
from nmo_portal.once import insert_once

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

KINDS: list[str] = [Kind.WINDOW_OPEN, Kind.DAYS_90, Kind.HOURS_SHORT]
# A run examines BATCH documents per transaction and examines no more after RUN_SECONDS; the task then queues its
# continuation from the last document it examined. Hours short costs a portfolio per document (some 15 queries,
# 0.05-0.2 s), so a run may overrun its time by one portfolio and the batch's mails: hence under half a second.
BATCH = 20
RUN_SECONDS = 0.4

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


def _applies(document: AccreditationDocument, kind: str, day: date) -> dict[str, Any] | None:
    """What the e-mail of a candidate says beyond the document when its reminder is due (the gaps of the closest
    alternative, for hours short), or None when it is not due after all."""
    if kind == Kind.WINDOW_OPEN:
        return {} if window_state(document, day) == Window.OPEN else None
    if kind == Kind.HOURS_SHORT:
        found = specialty_portfolio(doctor=document.doctor, specialty=document.specialty, day=day)
        best = found.closest
        if best is None or best.met:
            return None
        return {"alternative": best.alternative, "short": [c for c in best.components if c.short]}
    return {}


def _context(document: AccreditationDocument, day: date, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "doctor": document.doctor,
        "document": document,
        "specialty": document.specialty,
        "expires_on": document.expires_on,
        "window_opens_on": window_opens_on(document.expires_on),
        "days_left": (document.expires_on - day).days,
        "portfolio_url": f"{settings.SITE_URL}{portfolio_path(document.specialty.code)}",
        "profile_url": f"{settings.SITE_URL}{reverse('accounts:profile')}#reminders",
        **extra,
    }


def _send_batch(reminders: list[tuple[AccreditationDocument, str, dict[str, Any]]], day: date) -> int:
    """Send the reminders of a batch that were not sent: their rows inserted first in one statement, the mail of
    each row this call inserted over one connection of the mail backend, and the rows of the mails that failed
    deleted again, all in one transaction (a failed mail leaves no row; the next day's run sends it)."""
    reminders = [r for r in reminders if r[0].doctor.email]
    if not reminders:
        return 0
    by_key = {(document.pk, kind): (document, kind, extra) for document, kind, extra in reminders}
    failed: list[tuple[int, str]] = []
    with transaction.atomic():
        inserted = insert_once(
            PortfolioReminder,
            columns=["doctor_id", "document_id", "kind", "sent_at"],
            rows=[(document.doctor_id, document.pk, kind, timezone.now()) for document, kind, _extra in reminders],
            unique=["doctor_id", "document_id", "kind"],
        )
        with get_connection() as mail:
            for _doctor_id, document_id, kind in sorted(inserted):
                document, kind, extra = by_key[document_id, kind]
                doctor = document.doctor
                try:
                    templated_message(
                        to=[doctor.email],
                        template=TEMPLATES[kind],
                        context=_context(document, day, extra),
                        language=doctor.language,
                        connection=mail,
                    ).send()
                except Exception:
                    logger.exception("Could not send the %s reminder of accreditation document %s", kind, document.pk)
                    failed.append((document.pk, kind))
        for document_id, kind in failed:
            PortfolioReminder.objects.filter(document_id=document_id, kind=kind).delete()
    return len(inserted) - len(failed)


@dataclass(frozen=True)
class Position:
    """Where a run stopped: the kind, and the last document of it examined (in the order of the expiry index)."""

    kind: str
    expires_on: date
    document: int


@dataclass(frozen=True)
class Run:
    sent: int
    stopped_at: Position | None  # None when every reminder due was sent


def _after(candidates: QuerySet[AccreditationDocument], position: Position | None) -> QuerySet[AccreditationDocument]:
    """The candidates after `position` in their order (expiry, id): a run's next batch, read on from the index."""
    if position is None:
        return candidates
    return candidates.filter(
        Q(expires_on__gt=position.expires_on) | Q(expires_on=position.expires_on, pk__gt=position.document)
    )


def reminders_send_some(day: date, *, after: Position | None = None, seconds: float | None = RUN_SECONDS) -> Run:
    """Send the reminders due on `day`, from after `after` on, BATCH documents' worth per transaction, until none
    is left or, `seconds` being given, that time has passed. A failure to send one is logged and does not stop the
    others: its row is taken back, and it is due again the next day."""
    deadline = None if seconds is None else monotonic() + seconds
    sent = 0
    kinds = KINDS[KINDS.index(after.kind) :] if after is not None else KINDS
    for kind in kinds:
        position = after if after is not None and after.kind == kind else None
        while True:
            documents = list(_after(_candidates(kind, day), position)[:BATCH])
            batch: list[tuple[AccreditationDocument, str, dict[str, Any]]] = []
            out_of_time = False
            for document in documents:
                extra = _applies(document, kind, day)
                if extra is not None:
                    batch.append((document, kind, extra))
                position = Position(kind=kind, expires_on=document.expires_on, document=document.pk)
                # hours short weighs a portfolio per document, so the time is minded document by document (a
                # continuation that finds nothing left after the last one costs a few queries)
                out_of_time = deadline is not None and monotonic() >= deadline
                if out_of_time:
                    break
            sent += _send_batch(batch, day)
            if out_of_time:
                return Run(sent=sent, stopped_at=position)
            if len(documents) < BATCH:
                break
    return Run(sent=sent, stopped_at=None)


def reminders_send(day: date) -> int:
    """Send every reminder due on `day`; returns how many were sent."""
    return reminders_send_some(day, seconds=None).sent


@shared_task
def send_accreditation_reminders(day: str | None = None, after: dict[str, Any] | None = None) -> int:
    """Periodic (beat, daily): send the accreditation reminders due today (or on `day`, an ISO date), in runs of
    about RUN_SECONDS: a run that stops with documents left queues the next from where it stopped. In-process (no
    broker) one call sends them all. Returns how many this run sent."""
    on = date.fromisoformat(day) if day else today()
    position = (
        Position(kind=after["kind"], expires_on=date.fromisoformat(after["expires_on"]), document=after["document"])
        if after
        else None
    )
    if current_app.conf.task_always_eager:
        return reminders_send_some(on, after=position, seconds=None).sent
    run = reminders_send_some(on, after=position, seconds=RUN_SECONDS)
    if run.stopped_at is not None:
        stop = run.stopped_at
        send_accreditation_reminders.apply_async(
            kwargs={
                "day": on.isoformat(),
                "after": {"kind": stop.kind, "expires_on": stop.expires_on.isoformat(), "document": stop.document},
            }
        )
    return run.sent
