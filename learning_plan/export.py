"""The portfolio's export: every document the doctor files, each a PDF named as a person filing names it
(«Иванова М.С. сведения об образовании.pdf»), all in one ZIP in the private storage, built by a Celery task with
its progress, and served only to the doctor.

The documents: the education of the period and the report on professional activity (`export_documents.py`),
and one PDF per scan (`export_scans.py`), each at most PORTFOLIO_PDF_MAX_BYTES. A document that cannot be made
fails the export with a message naming it (`export_errors.py`), which the doctor sees on the page.
"""

import json
import logging
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any, Final

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_log
from accounts.models import User
from nmo_portal.celery import enqueue_on_commit

from .export_documents import EDUCATION_NAME, REPORT_NAME, education_pdf, report_pdf
from .export_errors import ExportError, export_error_message
from .export_scans import scan_pdf
from .models import Portfolio, PortfolioExport, private_storage
from .portfolio import SpecialtyPortfolio, specialty_portfolio
from .scans import ordered_scans, person_name, safe_name, scan_names
from .services import _own_portfolio

logger = logging.getLogger(__name__)


def export_filename(portfolio: Portfolio) -> str:
    """The ZIP's name as the doctor downloads it: «Иванова М.С. портфолио 31.08.20.zip»."""
    return f"{safe_name(person_name(portfolio.doctor) + ' портфолио ' + portfolio.document.specialty.code)}.zip"


# Reading the portfolio ----------------------------------------------------------------------------------------


def portfolio_read(portfolio: Portfolio) -> SpecialtyPortfolio:
    """What the export prints of a portfolio, as its page shows it; a portfolio of a document that has since been
    renewed is read for its own document's five years."""
    document = portfolio.document
    return specialty_portfolio(doctor=portfolio.doctor, specialty=document.specialty, document=document)


# The ZIP -----------------------------------------------------------------------------------------------------


def write_portfolio_zip(portfolio: Portfolio, target: IO[bytes], *, progress: Callable[[int], None]) -> int:
    """Every document of the portfolio as a PDF in one ZIP written to `target`; returns the number of documents.
    `progress` is told how far along it is, 0–99, as each document is done."""
    limit = settings.PORTFOLIO_PDF_MAX_BYTES
    doctor = portfolio.doctor
    person = person_name(doctor)
    found = portfolio_read(portfolio)
    scans = ordered_scans(portfolio.scans.all())
    names = scan_names(person, scans, reserved=(f"{person} {EDUCATION_NAME}", f"{person} {REPORT_NAME}"))
    weight = sum(scan.size for scan in scans) or 1
    count = 0
    # PDFs are compressed already: storing them saves the time deflating would take for nothing.
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        progress(2)
        for title, build, done in (
            (f"{person} {EDUCATION_NAME}", education_pdf, 15),
            (f"{person} {REPORT_NAME}", report_pdf, 20),
        ):
            pdf = build(found, doctor=doctor)
            if len(pdf) > limit:
                raise ExportError("export_document_too_large", title=title)
            archive.writestr(f"{safe_name(title)}.pdf", pdf)
            count += 1
            progress(done)
        handled = 0
        for scan in scans:
            archive.writestr(f"{names[scan.pk]}.pdf", scan_pdf(scan, limit=limit))
            count += 1
            handled += scan.size
            progress(20 + 78 * handled // weight)
    return count


# Requests and the task ----------------------------------------------------------------------------------------

# A queued export no worker has taken this long after it was asked for is sent again when the doctor asks again
# (the broker was down when it was first sent); one running this long is taken for lost, and a new one is made.
QUEUED_GRACE: Final = timedelta(minutes=2)
RUNNING_TIMEOUT: Final = timedelta(minutes=30)
BUSY: Final = (PortfolioExport.State.QUEUED, PortfolioExport.State.RUNNING)


@transaction.atomic
def export_request(*, portfolio: Portfolio, doctor: User) -> PortfolioExport:
    """Ask for the portfolio's ZIP to be built. While one is queued or being built, asking again (a double
    click, a second tab) returns that one; the ZIP built before stays downloadable meanwhile."""
    _own_portfolio(portfolio, doctor)
    portfolio = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    now = timezone.now()
    current = portfolio.exports.filter(state__in=BUSY).order_by("-created_at", "-id").first()
    if (
        current is not None
        and current.state == PortfolioExport.State.RUNNING
        and current.created_at < now - RUNNING_TIMEOUT
    ):
        _fail(current.pk, "export_interrupted", from_states=BUSY)
        current = None
    if current is not None:
        if current.state == PortfolioExport.State.QUEUED and current.created_at < now - QUEUED_GRACE:
            enqueue_on_commit(build_portfolio_export, export_id=current.pk)
        return current
    export = PortfolioExport.objects.create(portfolio=portfolio)
    audit_log(actor=doctor, action="portfolio.export_request", obj=portfolio, export=export.pk)
    enqueue_on_commit(build_portfolio_export, export_id=export.pk)
    return export


@shared_task(name="learning_plan.export.build_portfolio_export")
def build_portfolio_export(*, export_id: int) -> str:
    """Build the ZIP of a queued export into the private storage under a name with a random part, record it, and
    delete the exports it replaces. Returns the file's name; "" when there was nothing to do or it failed.

    Only a queued export is taken (a message delivered twice builds once). A document that cannot be made
    (a scan that cannot fit) fails the export with a message naming it; anything else fails it and is raised."""
    if not PortfolioExport.objects.filter(pk=export_id, state=PortfolioExport.State.QUEUED).update(
        state=PortfolioExport.State.RUNNING, progress=0, error=""
    ):
        return ""
    export = PortfolioExport.objects.select_related("portfolio__doctor", "portfolio__document__specialty").get(
        pk=export_id
    )
    storage = private_storage()  # as named in STORAGES now, not as the field's storage was when the model loaded
    shown = {"progress": 0}

    def progress(value: int) -> None:
        value = max(0, min(value, 99))
        if value != shown["progress"]:
            shown["progress"] = value
            PortfolioExport.objects.filter(pk=export_id, state=PortfolioExport.State.RUNNING).update(progress=value)

    try:
        with tempfile.TemporaryFile() as target:
            write_portfolio_zip(export.portfolio, target, progress=progress)
            size = target.tell()
            target.seek(0)
            name: str = storage.save(f"portfolio-exports/{secrets.token_urlsafe(18)}.zip", File(target))
    except ExportError as exc:
        _fail(export_id, exc.code, title=exc.title)
        return ""
    except Exception:
        logger.exception("The export %s of a portfolio failed", export_id)
        _fail(export_id, "export_failed")
        raise
    with transaction.atomic():
        built = PortfolioExport.objects.select_for_update().filter(pk=export_id).first()
        if built is None:  # the portfolio was deleted meanwhile
            storage.delete(name)
            return ""
        built.file.name = name
        built.state = PortfolioExport.State.DONE
        built.progress = 100
        built.size = size
        built.error = ""
        built.finished_at = timezone.now()
        built.save(update_fields=["file", "state", "progress", "size", "error", "finished_at"])
        replaced = list(
            PortfolioExport.objects.filter(portfolio_id=built.portfolio_id)
            .exclude(pk=export_id)
            .exclude(state__in=BUSY)
        )
        names = [old.file.name for old in replaced if old.file.name]
        PortfolioExport.objects.filter(pk__in=[old.pk for old in replaced]).delete()
        transaction.on_commit(lambda: _delete_files(storage, names))
    return name


def _delete_files(storage: Storage, names: Iterable[str]) -> None:
    for name in names:
        storage.delete(name)


def _fail(
    export_id: int, code: str, *, title: str = "", from_states: Sequence[str] = (PortfolioExport.State.RUNNING,)
) -> None:
    # The reason is kept as its code and the document's title, and put in words for whoever reads it, in their
    # language (`export_error_message`).
    error = json.dumps({"code": code, "title": title}, ensure_ascii=False)
    PortfolioExport.objects.filter(pk=export_id, state__in=from_states).update(
        state=PortfolioExport.State.FAILED, error=error, finished_at=timezone.now()
    )


@dataclass(frozen=True)
class ExportStatus:
    """An export as the page and its polling show it."""

    export: PortfolioExport

    @property
    def state(self) -> str:
        return self.export.state

    @property
    def busy(self) -> bool:
        return self.export.state in BUSY

    @property
    def label(self) -> str:
        return str(self.export.get_state_display())

    @property
    def error_message(self) -> str:
        if self.export.state != PortfolioExport.State.FAILED:
            return ""
        try:
            reason = json.loads(self.export.error)
            return export_error_message(str(reason.get("code", "")), title=str(reason.get("title", "")))
        except (ValueError, AttributeError):
            return export_error_message("")

    @property
    def download_url(self) -> str:
        if self.export.state != PortfolioExport.State.DONE or not self.export.file.name:
            return ""
        return reverse("learning_plan:portfolio_export_file", args=[self.export.portfolio_id, self.export.pk])

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "state_label": self.label,
            "progress": self.export.progress,
            "error": self.error_message,
            "download_url": self.download_url,
        }


def export_status(portfolio: Portfolio) -> ExportStatus | None:
    """The export asked for last, as the page and its polling show it."""
    export = portfolio.exports.order_by("-created_at", "-id").first()
    return ExportStatus(export) if export is not None else None


def export_ready(portfolio: Portfolio) -> PortfolioExport | None:
    """The ZIP built last, which stays downloadable while a new one is built or after a new one failed."""
    return portfolio.exports.filter(state=PortfolioExport.State.DONE).order_by("-created_at", "-id").first()
