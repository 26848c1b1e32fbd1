"""E-mail reminders about periodic accreditation, sent by a daily beat task (SPEC.md): the filing window has
opened, 90 days are left, hours are short while time runs out.

Each is sent at most once per doctor, kind and window, the window being the document it belongs to: its
PortfolioReminder row is inserted first, in the transaction that sends, and the mail goes out only when this run
inserted it. Two runs at once insert one row (the second waits on the unique index, then finds it) and send once;
a send that fails rolls its row back, so the next day's run tries again.

Nothing goes to a doctor who turned reminders off in the profile, for a portfolio already filed or accredited, or
for a document that is not the doctor's current one in its specialty. A day's run reads only the documents a
reminder may be due for, by markers on each document kept with the reminders (AccreditationDocument's
`window_reminded`, `days_90_reminded`, `hours_short_next_on`) and their partial indexes: not every document of an
open window (70,000 at national scale) to find the few not reminded yet. Hours short weighs a portfolio: a document
found not due is weighed again HOURS_RECHECK_DAYS later rather than every day of its last HOURS_SHORT_DAYS."""

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
# A document whose hours-short reminder was found not due (its hours met, or reminders ruled out for it) is weighed
# again this many days later: hours once met seldom fall short again (a revoked code), and a portfolio costs some
# 15 queries, so not every day of the 180.
HOURS_RECHECK_DAYS = 30
# A window opens ACCREDITATION_WINDOW_MONTHS before expiry, counted in months with the month-end clamp: the
# expiry that bounds the query is read a few days wider than the months, and each document is checked exactly.
MONTH_END_SLACK = timedelta(days=3)

KINDS: list[str] = [Kind.WINDOW_OPEN, Kind.DAYS_90, Kind.HOURS_SHORT]
# A run's passes, in order: one per kind, and hours short's second, over the documents weighed before and due to be
# weighed again (its first takes the documents entering their last HOURS_SHORT_DAYS).
HOURS_AGAIN = "hours_short_again"
PASSES: list[str] = [*KINDS, HOURS_AGAIN]
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


def _remindable() -> QuerySet[AccreditationDocument]:
    """The documents a reminder may go out for at all: of an active doctor who has not turned them off, with a
    portfolio neither filed nor accredited, and the doctor's current one in its specialty."""
    newer = AccreditationDocument.objects.filter(
        doctor=OuterRef("doctor"), specialty=OuterRef("specialty"), issued_on__gt=OuterRef("issued_on")
    )
    return (
        AccreditationDocument.objects.filter(doctor__is_active=True)
        .exclude(doctor__doctor_profile__accreditation_reminders=False)
        .exclude(portfolio__filing__in=[Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED])
        .exclude(Exists(newer))
    )


def _candidates(step: str, day: date) -> QuerySet[AccreditationDocument]:
    """The documents of a pass (PASSES) whose reminder may be due on `day`, each pass a range of its own partial
    index. The window's and the 90-day reminders: a range of expiry among the documents not reminded yet, less
    what rules a reminder out. Hours short: the documents entering their last HOURS_SHORT_DAYS, not weighed yet,
    then those due to be weighed again; what rules it out is asked batch by batch (`_remindable_of`), as a
    document ruled out is weighed again later too."""
    if step == Kind.WINDOW_OPEN:
        documents = _remindable().filter(
            window_reminded=False,
            expires_on__gt=day + timedelta(days=DAYS_LEFT),
            expires_on__lte=add_months(day, settings.ACCREDITATION_WINDOW_MONTHS) + MONTH_END_SLACK,
        )
    elif step == Kind.DAYS_90:
        documents = _remindable().filter(
            days_90_reminded=False, expires_on__gt=day, expires_on__lte=day + timedelta(days=DAYS_LEFT)
        )
    elif step == Kind.HOURS_SHORT:
        documents = AccreditationDocument.objects.filter(
            hours_short_next_on=None, expires_on__gt=day, expires_on__lte=day + timedelta(days=HOURS_SHORT_DAYS)
        )
    else:
        return (
            AccreditationDocument.objects.filter(hours_short_next_on__lte=day)
            .select_related("doctor", "specialty")
            .order_by("hours_short_next_on", "pk")
        )
    return documents.select_related("doctor", "specialty").order_by("expires_on", "pk")


def _remindable_of(documents: list[AccreditationDocument]) -> set[int]:
    """Which of a batch's documents a reminder may go out for (`_remindable`), in one query by their ids."""
    if not documents:
        return set()
    return set(_remindable().filter(pk__in=[d.pk for d in documents]).values_list("pk", flat=True))


def _applies(document: AccreditationDocument, kind: str, day: date, remindable: bool = True) -> dict[str, Any] | None:
    """What the e-mail of a candidate says beyond the document when its reminder is due (the gaps of the closest
    alternative, for hours short), or None when it is not due after all."""
    if not document.doctor.email:
        return None
    if kind == Kind.WINDOW_OPEN:
        return {} if window_state(document, day) == Window.OPEN else None
    if kind == Kind.HOURS_SHORT:
        if not (remindable and day < document.expires_on <= day + timedelta(days=HOURS_SHORT_DAYS)):
            return None
        found = specialty_portfolio(doctor=document.doctor, specialty=document.specialty, day=day)
        best = found.closest
        if best is None or best.met:
            return None
        return {"alternative": best.alternative, "short": [c for c in best.components if c.short]}
    return {}


def _weigh_again(documents: list[AccreditationDocument], day: date) -> None:
    """The hours-short reminder of `documents`, found not due on `day`, is weighed again HOURS_RECHECK_DAYS later;
    a document out of its last HOURS_SHORT_DAYS (expired, or its expiry corrected to a later one) is left to the
    expiry's range, which finds it again if it comes back into them."""
    later = [d.pk for d in documents if day < d.expires_on <= day + timedelta(days=HOURS_SHORT_DAYS)]
    out = [d.pk for d in documents if d.pk not in later]
    AccreditationDocument.objects.filter(pk__in=later).update(
        hours_short_next_on=day + timedelta(days=HOURS_RECHECK_DAYS)
    )
    AccreditationDocument.objects.filter(pk__in=out).update(hours_short_next_on=None)


# What marks a document's reminder of each kind sent, for the next days' runs to pass it by.
SENT: dict[str, dict[str, Any]] = {
    Kind.WINDOW_OPEN: {"window_reminded": True},
    Kind.DAYS_90: {"days_90_reminded": True},
    Kind.HOURS_SHORT: {"hours_short_next_on": AccreditationDocument.HOURS_REMINDED},
}


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
    each row this call inserted over one connection of the mail backend, the rows of the mails that failed deleted
    again, and the documents of the others marked (SENT), all in one transaction (a failed mail leaves no row and
    no mark, and hours short is weighed again the next day: the next day's run sends it). A row another run
    inserted marks its document too."""
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
        for marked in KINDS:
            sent = [pk for pk, kind in by_key if kind == marked and (pk, kind) not in failed]
            if sent:
                AccreditationDocument.objects.filter(pk__in=sent).update(**SENT[marked])
        AccreditationDocument.objects.filter(pk__in=[pk for pk, kind in failed if kind == Kind.HOURS_SHORT]).update(
            hours_short_next_on=day + timedelta(days=1)
        )
    return len(inserted) - len(failed)


@dataclass(frozen=True)
class Position:
    """Where a run stopped: the pass (PASSES), and the last document of it examined."""

    kind: str
    expires_on: date
    document: int


@dataclass(frozen=True)
class Run:
    sent: int
    stopped_at: Position | None  # None when every reminder due was sent


def _after(candidates: QuerySet[AccreditationDocument], position: Position | None) -> QuerySet[AccreditationDocument]:
    """The candidates after `position` in their order (expiry, id): a run's next batch, read on from the index. The
    passes of hours short need none: each document they examine leaves them (sent, or weighed again another day)."""
    if position is None or position.kind not in (Kind.WINDOW_OPEN, Kind.DAYS_90):
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
    steps = PASSES[PASSES.index(after.kind) :] if after is not None else PASSES
    for step in steps:
        kind = Kind.HOURS_SHORT if step == HOURS_AGAIN else step
        position = after if after is not None and after.kind == step else None
        while True:
            documents = list(_after(_candidates(step, day), position)[:BATCH])
            # the window's and the 90-day passes read only what a reminder may go out for; hours short asks
            remindable = _remindable_of(documents) if kind == Kind.HOURS_SHORT else {d.pk for d in documents}
            batch: list[tuple[AccreditationDocument, str, dict[str, Any]]] = []
            weighed: list[AccreditationDocument] = []  # hours short, not due today
            out_of_time = False
            for document in documents:
                extra = _applies(document, kind, day, remindable=document.pk in remindable)
                if extra is not None:
                    batch.append((document, kind, extra))
                elif kind == Kind.HOURS_SHORT:
                    weighed.append(document)
                position = Position(kind=step, expires_on=document.expires_on, document=document.pk)
                # hours short weighs a portfolio per document, so the time is minded document by document (a
                # continuation that finds nothing left after the last one costs a few queries)
                out_of_time = deadline is not None and monotonic() >= deadline
                if out_of_time:
                    break
            sent += _send_batch(batch, day)
            _weigh_again(weighed, day)
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
