"""Certificates (Свидетельство НМО) as PDF: one A4 landscape page per ИКП code, with a QR code to the check page.

A certificate is a Russian document of record whatever the reader's language, so its wording is Russian text
here rather than translatable strings; only the accompanying e-mail follows the interface's translations.

What every page shares is drawn once per document as PDF form XObjects: the frame and headings once, and each
event's title and details once per event. A page then adds only the holder, the code and the QR code, which
keeps a congress's file small and quick to build.
"""

import logging
import secrets
import tempfile
from collections.abc import Iterable, Sequence
from datetime import timedelta
from functools import cache
from io import BytesIO
from typing import IO, Final

import qrcode
from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from events.models import Event
from nmo_portal.mail import recipient_languages, templated_message

from .codes import format_code
from .models import EventCertificatesFile, IcpCode, IssuanceBatch

logger = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN: Final = 14 * mm
TOP: Final = PAGE_HEIGHT - MARGIN
LEFT: Final = MARGIN + 8 * mm
CENTRE_X: Final = PAGE_WIDTH / 2
TEXT_WIDTH: Final = PAGE_WIDTH - 2 * LEFT
QR_SIZE: Final = 36 * mm
QR_RIGHT: Final = PAGE_WIDTH - LEFT
QR_BOTTOM: Final = MARGIN + 14 * mm
CODE_BOTTOM: Final = QR_BOTTOM + 14 * mm
DETAILS_TOP: Final = TOP - 275
DETAILS_WIDTH: Final = QR_RIGHT - QR_SIZE - 12 * mm - LEFT  # what is left of the QR code
LABEL_WIDTH: Final = 36 * mm

REGULAR: Final = "DejaVuSans"
BOLD: Final = "DejaVuSans-Bold"
# The code and the check URL are ASCII: PDF base fonts need no embedding and keep them searchable as text.
MONO: Final = "Courier-Bold"
LATIN: Final = "Helvetica"

INK: Final = Color(0.11, 0.16, 0.24)
ACCENT: Final = Color(0.05, 0.33, 0.45)
MUTED: Final = Color(0.42, 0.45, 0.50)

FORMAT_RU: Final[dict[str, str]] = {
    Event.Format.IN_PERSON: "очно",
    Event.Format.ONLINE: "онлайн",
    Event.Format.MIXED: "очно и онлайн",
}

CHUNK_SIZE: Final = 500
# Certificates e-mailed under one lock, and attendee lists taken by one run of the periodic mailing.
MAIL_CHUNK_SIZE: Final = 100
MAIL_SWEEP_BATCHES: Final = 50
PDF_MEDIA_TYPE: Final = "application/pdf"


@cache
def register_fonts() -> None:
    """Register the Cyrillic TrueType fonts with reportlab once per process; every document reuses them."""
    fonts = settings.BASE_DIR / "static" / "fonts"
    pdfmetrics.registerFont(TTFont(REGULAR, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "DejaVuSans-Bold.ttf")))


def credits_ru(n: int) -> str:
    """`n` with the Russian plural of «кредит»: 1 кредит, 24 кредита, 5 кредитов, 11 кредитов, 21 кредит."""
    if n % 10 == 1 and n % 100 != 11:
        word = "кредит"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "кредита"
    else:
        word = "кредитов"
    return f"{n} {word}"


def event_dates(event: Event) -> str:
    """The event's calendar days in its own zone: `12.03.2025 – 14.03.2025`, or one date for a one-day event."""
    start = event.start_date.strftime("%d.%m.%Y")
    end = event.end_date.strftime("%d.%m.%Y")
    return start if start == end else f"{start} – {end}"


def verify_url(code: IcpCode) -> str:
    """The public check page of a certificate, addressed by its token rather than by the code itself."""
    return f"{settings.SITE_URL}/verify/{code.verify_token}/"


def certificate_filename(code: IcpCode) -> str:
    return f"certificate-{format_code(code.code)}.pdf"


def certificate_pdf(codes: Sequence[IcpCode], *, compress: bool = True) -> bytes:
    """One A4 landscape page per code, in the given order.

    Pass codes fetched with `select_related("event__organization")`: drawing reads nothing else, so a
    document of any size costs no queries. `compress=False` leaves page streams readable (for tests).
    """
    buffer = BytesIO()
    write_certificates(codes, buffer, compress=compress)
    return buffer.getvalue()


def write_certificates(codes: Iterable[IcpCode], target: IO[bytes], *, compress: bool = True) -> int:
    """Draw a certificate page per code into `target`, a binary file; return the number of pages."""
    register_fonts()
    canvas = Canvas(target, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1 if compress else 0)
    canvas.setTitle("Свидетельство НМО")
    canvas.setAuthor("НМО Portal")
    canvas.setCreator("НМО Portal")
    canvas.setSubject("Continuing medical education certificate")
    events_drawn: set[int] = set()
    pages = 0
    for code in codes:
        if pages == 0:
            _define_frame(canvas)
        if code.event_id not in events_drawn:
            _define_event(canvas, code.event)
            events_drawn.add(code.event_id)
        canvas.doForm("frame")
        canvas.doForm(f"event-{code.event_id}")
        _draw_holder(canvas, code.holder_name.strip())
        _draw_code(canvas, code)
        canvas.showPage()
        pages += 1
    canvas.save()
    return pages


def _define_frame(canvas: Canvas) -> None:
    """What every certificate shares: the border, the headings, the fixed wording and the captions."""
    canvas.beginForm("frame")
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(2.2)
    canvas.rect(MARGIN - 5, MARGIN - 5, PAGE_WIDTH - 2 * MARGIN + 10, PAGE_HEIGHT - 2 * MARGIN + 10)
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN, MARGIN, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN)

    canvas.setFillColor(ACCENT)
    canvas.setFont(BOLD, 30)
    canvas.drawCentredString(CENTRE_X, TOP - 46, "Свидетельство НМО")
    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 10)
    canvas.drawCentredString(CENTRE_X, TOP - 63, "Continuing medical education certificate")
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(CENTRE_X - 120, TOP - 75, CENTRE_X + 120, TOP - 75)

    canvas.setFillColor(INK)
    canvas.setFont(REGULAR, 11)
    canvas.drawCentredString(CENTRE_X, TOP - 102, "Настоящим подтверждается, что")
    canvas.drawCentredString(CENTRE_X, TOP - 160, "принял(а) участие в образовательном мероприятии")

    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 9)
    canvas.drawString(LEFT, CODE_BOTTOM + 48, "Индивидуальный код подтверждения (ИКП)")
    canvas.setFont(REGULAR, 8)
    canvas.drawString(LEFT, QR_BOTTOM, "Зачтите кредиты: активируйте код в личном кабинете портала НМО")
    canvas.setFont(LATIN, 8)
    canvas.drawString(LEFT, QR_BOTTOM - 12, f"{settings.SITE_URL}/me/credits/")
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(QR_RIGHT - QR_SIZE / 2, QR_BOTTOM + QR_SIZE + 7, "Проверка подлинности")
    canvas.endForm()


def _define_event(canvas: Canvas, event: Event) -> None:
    """An event's title and details: the same on every certificate of that event."""
    canvas.beginForm(f"event-{event.pk}")
    size, lines = _fit(event.title, BOLD, TEXT_WIDTH, sizes=(17, 15, 13), max_lines=3)
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, size)
    y = TOP - 188
    for line in lines:
        canvas.drawCentredString(CENTRE_X, y, line)
        y -= size * 1.25

    place = FORMAT_RU.get(event.format, event.format)
    if event.venue.strip() and event.format != Event.Format.ONLINE:
        place = f"{event.venue.strip()} ({place})"
    credits = event.credits_granted
    rows = [
        *([("Номер мероприятия", event.public_number, REGULAR)] if event.public_number else []),
        ("Даты проведения", event_dates(event), REGULAR),
        ("Место и формат", place, REGULAR),
        ("Организатор", event.organization.name, REGULAR),
        ("Зачтено", f"{credits_ru(credits)} (ЗЕТ)" if credits else "—", BOLD),
    ]
    y = DETAILS_TOP
    for label, value, font in rows:
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 9)
        canvas.drawString(LEFT, y, label)
        canvas.setFillColor(INK)
        canvas.setFont(font, 11)
        for line in _fit(value, font, DETAILS_WIDTH - LABEL_WIDTH, sizes=(11,), max_lines=2)[1]:
            canvas.drawString(LEFT + LABEL_WIDTH, y, line)
            y -= 13
        y -= 5
    canvas.endForm()


def _draw_holder(canvas: Canvas, name: str) -> None:
    y = TOP - 132
    if name:
        size, lines = _fit(name, BOLD, TEXT_WIDTH, sizes=(22, 19, 16, 14), max_lines=1)
        canvas.setFillColor(INK)
        canvas.setFont(BOLD, size)
        canvas.drawCentredString(CENTRE_X, y, lines[0])
        return
    # A blank code's certificate: the provider writes the name in by hand.
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(CENTRE_X - 170, y + 2, CENTRE_X + 170, y + 2)
    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 7)
    canvas.drawCentredString(CENTRE_X, y - 7, "фамилия, имя, отчество")


def _draw_code(canvas: Canvas, code: IcpCode) -> None:
    text = format_code(code.code)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(1)
    canvas.roundRect(LEFT - 8, CODE_BOTTOM, pdfmetrics.stringWidth(text, MONO, 30) + 16, 40, 4)
    canvas.setFillColor(INK)
    canvas.setFont(MONO, 30)
    canvas.drawString(LEFT, CODE_BOTTOM + 12, text)

    url = verify_url(code)
    _draw_qr(canvas, url, QR_RIGHT - QR_SIZE, QR_BOTTOM, QR_SIZE)
    # A long SITE_URL shrinks the printed address rather than running into the activation hint.
    url_size = 8.0
    while url_size > 5 and pdfmetrics.stringWidth(url, LATIN, url_size) > PAGE_WIDTH / 2 - LEFT:
        url_size -= 0.5
    canvas.setFillColor(MUTED)
    canvas.setFont(LATIN, url_size)
    canvas.drawRightString(QR_RIGHT, QR_BOTTOM - 12, url)


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code as vector rectangles, one per run of dark modules: no image, no Pillow.

    The runs are written as raw `re` operators in module units (integers) under a scaling transform: building
    a few hundred path objects of floats per page was a third of a congress's build time.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    runs = []
    for row_index, row in enumerate(matrix):
        column, width = 0, len(row)
        while column < width:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < width and row[column]:
                column += 1
            runs.append(f"{start} {row_index} {column - start} 1 re")
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(INK)
    canvas.translate(x, y + size)
    canvas.scale(module, -module)  # row 0 at the top, like the matrix
    canvas.addLiteral("\n".join(runs) + "\nf")
    canvas.restoreState()


def _fit(text: str, font: str, width: float, *, sizes: Sequence[float], max_lines: int) -> tuple[float, list[str]]:
    """The largest of `sizes` at which `text` wraps into `max_lines` lines, else the smallest, cut with «…»."""
    lines: list[str] = []
    for size in sizes:
        lines = simpleSplit(text, font, size, width) or [""]
        if len(lines) <= max_lines:
            return size, lines
    kept = lines[:max_lines]
    last = kept[-1]
    while last and pdfmetrics.stringWidth(last + "…", font, size) > width:
        last = last[:-1].rstrip()
    kept[-1] = last + "…"
    return size, kept


def private_storage() -> Storage:
    """Where generated files live: STORAGES["private"], never served under MEDIA_URL (README: "Files")."""
    return storages["private"]


def codes_fingerprint(event_id: int) -> tuple[int, int]:
    """What a whole-event file is built from: the number of the event's codes not revoked, and its highest code
    id. Issuing raises the id and revoking lowers the number, so any change to what the file prints changes it."""
    totals = IcpCode.objects.filter(event_id=event_id).aggregate(
        count=Count("id", filter=~Q(status=IcpCode.Status.REVOKED)), last=Max("id")
    )
    return totals["count"] or 0, totals["last"] or 0


def certificates_file_is_stale(record: EventCertificatesFile) -> bool:
    """Whether a code was issued or revoked since the file was built."""
    return bool(record.file_name) and codes_fingerprint(record.event_id) != (record.codes_count, record.last_code_id)


@shared_task
def build_event_certificates(*, event_id: int) -> str:
    """Write every certificate of an event (revoked codes left out) to one PDF in the private storage under a
    name with a random part; record it and delete the file it replaces. Return the new name.

    The fingerprint of the codes is read before the codes themselves: a code issued or revoked during the build
    leaves the file marked stale rather than silently out of date.
    """
    EventCertificatesFile.objects.filter(event_id=event_id).update(
        state=EventCertificatesFile.State.BUILDING, started_at=timezone.now()
    )
    try:
        started = timezone.now()
        count, last = codes_fingerprint(event_id)
        codes = (
            IcpCode.objects.filter(event_id=event_id)
            .exclude(status=IcpCode.Status.REVOKED)
            .select_related("event__organization")
            .order_by("id")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        storage = private_storage()
        with tempfile.TemporaryFile() as target:
            write_certificates(codes, target)
            target.seek(0)
            name = storage.save(f"certificates/event-{event_id}-{secrets.token_urlsafe(18)}.pdf", File(target))
    except Exception as exc:
        EventCertificatesFile.objects.filter(event_id=event_id).update(
            state=EventCertificatesFile.State.FAILED, error=str(exc)[:2000]
        )
        raise
    with transaction.atomic():
        record, _created = EventCertificatesFile.objects.select_for_update().get_or_create(event_id=event_id)
        replaced = record.file_name
        record.file_name = name
        record.state = EventCertificatesFile.State.READY
        record.built_at = started
        record.codes_count, record.last_code_id = count, last
        record.error = ""
        record.save()
    if replaced and replaced != name:
        storage.delete(replaced)
    return name


@shared_task
def build_missed_certificates() -> int:
    """Periodic (beat): queue again the builds asked for that no worker started (the broker was down when the
    provider asked) or that a lost worker left half done. Returns how many were queued."""
    now = timezone.now()
    queued, building = EventCertificatesFile.State.QUEUED, EventCertificatesFile.State.BUILDING
    grace = timedelta(seconds=settings.CERTIFICATES_BUILD_GRACE_SECONDS)
    timeout = timedelta(seconds=settings.CERTIFICATES_BUILD_TIMEOUT_SECONDS)
    missed = EventCertificatesFile.objects.filter(
        Q(state=queued, requested_at__lte=now - grace) | Q(state=building, started_at__lte=now - timeout)
    )
    sent = 0
    for record in missed:
        # moving requested_at on keeps the next sweep from queuing it again while this message waits
        taken = EventCertificatesFile.objects.filter(pk=record.pk, state=record.state, requested_at=record.requested_at)
        if taken.update(state=queued, requested_at=now):
            build_event_certificates.delay(event_id=record.event_id)
            sent += 1
    return sent


@shared_task
def mail_certificates(*, batch_id: int) -> int:
    """E-mail every holder of the batch who has an address their certificate as a PDF, once the event has ended;
    return how many were sent.

    Codes without an e-mail (blank codes) and revoked codes get nothing. All messages go over one connection.
    Each certificate is sent once: a chunk of codes is locked while it is sent (a concurrent run skips it) and
    each sent one is marked, so a retried or redelivered task mails only those not yet sent. The batch is
    marked mailed when nothing is left to send.
    """
    batch = IssuanceBatch.objects.select_related("event").get(pk=batch_id)
    if batch.event.ends_at > timezone.now():
        return 0  # too early: `mail_due_certificates` sends them when the event has ended
    unsent = (
        IcpCode.objects.filter(batch_id=batch_id, mailed_at__isnull=True)
        .exclude(holder_email="")
        .exclude(status=IcpCode.Status.REVOKED)
    )
    failed: set[int] = set()
    sent = 0
    with get_connection() as connection:
        while True:
            with transaction.atomic():
                chunk = list(
                    unsent.exclude(pk__in=failed)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("event__organization")
                    .order_by("id")[:MAIL_CHUNK_SIZE]
                )
                if not chunk:
                    break
                languages = recipient_languages({code.holder_email for code in chunk})
                for code in chunk:
                    language = languages.get(code.holder_email.lower())
                    try:
                        delivered = _certificate_message(code, connection=connection, language=language).send()
                    except Exception:
                        logger.exception("Could not e-mail the certificate of code %s; the next run will", code.pk)
                        delivered = 0
                    if delivered:
                        IcpCode.objects.filter(pk=code.pk).update(mailed_at=timezone.now())
                        sent += 1
                    else:
                        failed.add(code.pk)
    if not unsent.exists():
        IssuanceBatch.objects.filter(pk=batch_id, mailed_at__isnull=True).update(mailed_at=timezone.now())
    return sent


@shared_task
def mail_due_certificates() -> int:
    """Periodic (beat): e-mail the certificates of attendee lists whose event has ended, reading the lists
    still to be mailed by their partial index, a bounded number per run. Returns how many were sent."""
    due = list(
        IssuanceBatch.objects.filter(
            kind=IssuanceBatch.Kind.ATTENDEES,
            mailed_at__isnull=True,
            state__in=[IssuanceBatch.State.DONE, IssuanceBatch.State.FAILED],
            event__ends_at__lte=timezone.now(),
        )
        .order_by("id")
        .values_list("pk", flat=True)[:MAIL_SWEEP_BATCHES]
    )
    return sum(mail_certificates(batch_id=batch_id) for batch_id in due)


def _certificate_message(code: IcpCode, *, connection: BaseEmailBackend, language: str | None) -> EmailMessage:
    event = code.event
    context = {
        "holder_name": code.holder_name.strip(),
        "event": event,
        "dates": event_dates(event),
        "credits": event.credits_granted,
        "code_display": format_code(code.code),
        "activate_url": f"{settings.SITE_URL}/me/credits/",
        "verify_url": verify_url(code),
    }
    message = templated_message(
        to=[code.holder_email],
        template="credits/email/certificate",
        context=context,
        language=language,
        connection=connection,
    )
    message.attach(certificate_filename(code), certificate_pdf([code]), PDF_MEDIA_TYPE)
    return message
