"""The society report as the page, its files and the API read it: prepared in the background and kept.

A large society's year is a million codes, millions of ledger rows and a hundred thousand running cycles at
national scale: computing its figures takes tens of seconds, far more than a request may. So the figures are
computed by a Celery task (on the long jobs' queue) and kept in `PreparedReport` (one row per society, year and
specialty or all of them), and readers get the kept figures with the moment they were computed (SPEC: "Figures
may be precomputed ... and then show as of when"):
- nightly (beat, SOCIETY_REPORT_HOUR) every verified society's reports of this year and the last are prepared
  again;
- a reader who finds no figures, or figures older than SOCIETY_REPORT_MAX_AGE_MINUTES, queues a preparation and
  gets what is kept meanwhile (nothing, the first time: the page says the report is being prepared);
- a preparation is queued once: `queued_at` claims it (one conditional UPDATE). The message expires after
  REQUEUE_AFTER and the task is stopped after TIME_LIMIT, so a claim older than REQUEUE_AFTER belongs to a
  preparation that will never run or finish (a lost message, a worker gone) and may be taken again;
- a preparation that fails releases its claim and marks `failed_at`: readers are told, and the next reader after
  REQUEUE_AFTER_FAILURE queues it again.
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

from accounts.audit import audit_log
from accounts.models import Organization, Specialty, User
from accounts.services import require_verified

from .models import PreparedReport
from .report import SocietyReport, compute_report

logger = logging.getLogger(__name__)

# A preparation runs at most TIME_LIMIT (then the worker stops it); its message waits in the queue at most
# REQUEUE_AFTER less that; a claim older than REQUEUE_AFTER is therefore of a preparation that is not coming.
TIME_LIMIT = timedelta(minutes=20)
REQUEUE_AFTER = timedelta(minutes=30)
# After a failed preparation, readers are told so, and one of them queues it again after this long.
REQUEUE_AFTER_FAILURE = timedelta(minutes=10)


@dataclass(frozen=True)
class Prepared:
    """What a reader gets: the kept figures (None before the first preparation is done), whether a newer
    preparation is queued or running, and whether the last one failed."""

    report: SocietyReport | None
    preparing: bool
    failed: bool = False


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


def _max_age() -> timedelta:
    return timedelta(minutes=settings.SOCIETY_REPORT_MAX_AGE_MINUTES)


def _claim(row: PreparedReport, now: datetime, *, only_stale: bool) -> bool:
    """Mark the row's preparation queued, in one UPDATE (two readers at once queue it once): unless one is queued
    already and not given up, the last one failed only just now, or (`only_stale`) the figures are fresh by now
    (the worker may have written them since the row was read)."""
    claimable = PreparedReport.objects.filter(pk=row.pk).filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER),
        Q(failed_at__isnull=True) | Q(failed_at__lt=now - REQUEUE_AFTER_FAILURE),
    )
    if only_stale:
        claimable = claimable.filter(Q(computed_at__isnull=True) | Q(computed_at__lt=now - _max_age()))
    if not claimable.update(queued_at=now):
        return False
    row.queued_at = now
    return True


def _queue(row: PreparedReport) -> None:
    """Start the claimed preparation: in a worker after the caller's commit, or here and now without a broker."""
    if current_app.conf.task_always_eager:
        report_prepare(row.pk)
        row.refresh_from_db()
        return
    pk = row.pk

    def publish() -> None:
        try:
            prepare_society_report.apply_async((pk,), expires=(REQUEUE_AFTER - TIME_LIMIT).total_seconds())
        except Exception:  # the broker is down: let the next reader queue it again
            logger.exception("Could not queue the preparation of society report %s", pk)
            PreparedReport.objects.filter(pk=pk).update(queued_at=None)

    transaction.on_commit(publish)


def prepared_report(*, society: Organization, year: int, specialty: Specialty | None = None) -> Prepared:
    """The kept report of the society's year (one specialty, or all when None); a preparation is queued when there
    is none yet or it is older than SOCIETY_REPORT_MAX_AGE_MINUTES. A society not yet verified has no report: it
    is refused (403 `organization_not_verified`) before anything is kept or queued."""
    require_verified(society)
    row = _row(society, year, specialty)
    now = timezone.now()
    stale = row.computed_at is None or row.computed_at < now - _max_age()
    if stale and _claim(row, now, only_stale=True):
        _queue(row)
    report = None if row.figures is None else SocietyReport.from_json(row.figures)
    failed = row.failed_at is not None and (row.computed_at is None or row.failed_at > row.computed_at)
    return Prepared(report=report, preparing=row.queued_at is not None, failed=failed and row.queued_at is None)


def report_queue(*, row: PreparedReport, actor: User | None = None) -> bool:
    """Queue a preparation of the kept report now, fresh or not (the nightly run; an administrator's "prepare
    again", audited), unless one is queued already; True when this call queued it."""
    if not _claim(row, timezone.now(), only_stale=False):
        return False
    if actor is not None:
        audit_log(actor=actor, action="society_report.prepare", obj=row, year=row.year)
    _queue(row)
    return True


def report_prepare(pk: int) -> bool:
    """Compute the figures of one kept report now and keep them; False when the row is gone or the computation
    failed (logged; the row says so). Figures computed earlier than those already kept (two preparations
    overlapping) are not written over them; the claim is released only if it is still the one this run took."""
    row = PreparedReport.objects.select_related("society", "specialty").filter(pk=pk).first()
    if row is None:
        return False
    mine = PreparedReport.objects.filter(pk=pk, queued_at=row.queued_at)
    try:
        report = compute_report(society=row.society, year=row.year, specialty=row.specialty)
    except Exception:
        logger.exception("Could not prepare society report %s", pk)
        mine.update(queued_at=None, failed_at=timezone.now())
        return False
    PreparedReport.objects.filter(pk=pk).filter(
        Q(computed_at__isnull=True) | Q(computed_at__lt=report.computed_at)
    ).update(figures=report.as_json(), computed_at=report.computed_at)
    mine.update(queued_at=None)
    return True


@shared_task(soft_time_limit=int(TIME_LIMIT.total_seconds()) - 60, time_limit=int(TIME_LIMIT.total_seconds()))
def prepare_society_report(pk: int) -> bool:
    """Compute and keep one society report (queued by a reader, an administrator or the nightly run)."""
    return report_prepare(pk)


def reports_queue_all(year: int) -> int:
    """Queue the preparation of every verified society's reports of `year` and the year before (all of its
    specialties, and each one); returns how many were queued (those queued already are left to run)."""
    societies = Organization.objects.filter(kind=Organization.Kind.SOCIETY, status=Organization.Status.VERIFIED)
    queued = 0
    for society in societies.prefetch_related("specialties"):
        variants: list[Specialty | None] = [None, *sorted(society.specialties.all(), key=lambda s: s.code)]
        for each_year in (year, year - 1):
            for specialty in variants:
                queued += report_queue(row=_row(society, each_year, specialty))
    return queued


@shared_task
def prepare_society_reports() -> int:
    """Nightly (beat, SOCIETY_REPORT_HOUR): queue every society's reports of this year and the last, so the
    morning's readers find them fresh. Each report is a task of its own."""
    return reports_queue_all(timezone.localdate().year)
