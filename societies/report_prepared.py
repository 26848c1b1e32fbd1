"""The society report as the page, its files and the API read it: prepared in the background and kept.

A large society's year is a million codes, millions of ledger rows and a hundred thousand running cycles at
national scale: computing its figures takes tens of seconds, far more than a request may. So the figures are
computed by a Celery task and kept in `PreparedReport` (one row per society, year and specialty or all of them),
and readers get the kept figures with the moment they were computed (SPEC: "Figures may be precomputed ... and
then show as of when"):
- nightly (beat, SOCIETY_REPORT_HOUR) every society's reports of this year and the last are prepared again;
- a reader who finds no figures, or figures older than SOCIETY_REPORT_MAX_AGE_MINUTES, queues a preparation and
  gets what is kept meanwhile (nothing, the first time: the page says the report is being prepared);
- a preparation is queued once: `queued_at` claims it (one UPDATE), and a claim older than REQUEUE_AFTER (a
  worker lost the task) may be taken again.
Without a broker (tests, a portal run without a worker) the preparation runs in the reader's request instead.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app, shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization, Specialty

from .models import PreparedReport
from .report import SocietyReport, compute_report

logger = logging.getLogger(__name__)

# A preparation queued this long ago and not done is taken to be lost and may be queued again.
REQUEUE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Prepared:
    """What a reader gets: the kept figures (None before the first preparation is done) and whether a newer
    preparation is queued or running."""

    report: SocietyReport | None
    preparing: bool


def _row(society: Organization, year: int, specialty: Specialty | None) -> PreparedReport:
    lookup = {"society": society, "year": year, "specialty": specialty}
    row = PreparedReport.objects.filter(**lookup).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return PreparedReport.objects.create(**lookup)
    except IntegrityError:  # another reader made it between the two statements
        return PreparedReport.objects.get(**lookup)


def _claim(row: PreparedReport, now: datetime) -> bool:
    """Mark the row's preparation queued, unless one is queued already and not yet given up (one UPDATE, so two
    readers at once queue it once)."""
    claimed = (
        PreparedReport.objects.filter(pk=row.pk)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
        .update(queued_at=now)
    )
    if claimed:
        row.queued_at = now
    return bool(claimed)


def _queue(row: PreparedReport) -> None:
    """Start the claimed preparation: in a worker after the caller's commit, or here and now without a broker."""
    if current_app.conf.task_always_eager:
        report_prepare(row.pk)
        row.refresh_from_db()
        return
    pk = row.pk

    def publish() -> None:
        try:
            prepare_society_report.delay(pk)
        except Exception:  # the broker is down: let the next reader queue it again
            logger.exception("Could not queue the preparation of society report %s", pk)
            PreparedReport.objects.filter(pk=pk).update(queued_at=None)

    transaction.on_commit(publish)


def is_stale(row: PreparedReport, now: datetime) -> bool:
    if row.computed_at is None:
        return True
    return row.computed_at < now - timedelta(minutes=settings.SOCIETY_REPORT_MAX_AGE_MINUTES)


def prepared_report(*, society: Organization, year: int, specialty: Specialty | None = None) -> Prepared:
    """The kept report of the society's year (one specialty, or all when None); a preparation is queued when there
    is none yet or it is older than SOCIETY_REPORT_MAX_AGE_MINUTES."""
    row = _row(society, year, specialty)
    now = timezone.now()
    if is_stale(row, now) and _claim(row, now):
        _queue(row)
    report = None if row.figures is None else SocietyReport.from_json(row.figures)
    return Prepared(report=report, preparing=row.queued_at is not None)


def report_queue(row: PreparedReport) -> bool:
    """Queue a preparation of the kept report now, fresh or not (an administrator's "prepare again"), unless one
    is queued already; True when this call queued it."""
    if not _claim(row, timezone.now()):
        return False
    _queue(row)
    return True


def report_prepare(pk: int) -> bool:
    """Compute the figures of one kept report now and keep them; False when the row is gone. Figures computed
    earlier than those already kept (two preparations overlapping) are not written over them."""
    row = PreparedReport.objects.select_related("society", "specialty").filter(pk=pk).first()
    if row is None:
        return False
    report = compute_report(society=row.society, year=row.year, specialty=row.specialty)
    PreparedReport.objects.filter(pk=pk).filter(
        Q(computed_at__isnull=True) | Q(computed_at__lt=report.computed_at)
    ).update(figures=report.as_json(), computed_at=report.computed_at)
    PreparedReport.objects.filter(pk=pk).update(queued_at=None)
    return True


@shared_task
def prepare_society_report(pk: int) -> bool:
    """Compute and keep one society report (queued by a reader or by the nightly run)."""
    return report_prepare(pk)


def reports_queue_all(year: int) -> int:
    """Queue the preparation of every society's reports of `year` and the year before (all of its specialties,
    and each one); returns how many were queued (those queued already are left to run)."""
    societies = Organization.objects.filter(kind=Organization.Kind.SOCIETY, status=Organization.Status.VERIFIED)
    queued = 0
    for society in societies.prefetch_related("specialties"):
        variants: list[Specialty | None] = [None, *sorted(society.specialties.all(), key=lambda s: s.code)]
        for each_year in (year, year - 1):
            for specialty in variants:
                queued += report_queue(_row(society, each_year, specialty))
    return queued


@shared_task
def prepare_society_reports() -> int:
    """Nightly (beat, SOCIETY_REPORT_HOUR): queue every society's reports of this year and the last, so the
    morning's readers find them fresh. Each report is a task of its own."""
    return reports_queue_all(timezone.localdate().year)
