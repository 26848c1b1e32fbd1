"""A status's certificate (Свидетельство о присвоении статуса) as one A4 page with a QR code to its check page.

As with the Свидетельство НМО (codes/certificate_pdf.py, whose fonts it shares), a certificate is a Russian
document of record whatever the reader's language: its wording is Russian text here, not translatable strings,
and the programme, the authority and the specialty are printed by their Russian names."""

from datetime import date
from io import BytesIO
from typing import Final

import qrcode
from django.conf import settings
from django.urls import reverse
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from codes.certificate_pdf import BOLD, REGULAR, register_fonts

from .models import Status

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 14 * mm
TOP: Final = PAGE_HEIGHT - MARGIN
LEFT: Final = MARGIN + 10 * mm
CENTRE_X: Final = PAGE_WIDTH / 2
TEXT_WIDTH: Final = PAGE_WIDTH - 2 * LEFT
LABEL_WIDTH: Final = 48 * mm
QR_SIZE: Final = 38 * mm
QR_BOTTOM: Final = MARGIN + 26 * mm
# The check URL is ASCII: a PDF base font needs no embedding and keeps it searchable as text.
LATIN: Final = "Helvetica"

INK: Final = Color(0.11, 0.16, 0.24)
ACCENT: Final = Color(0.05, 0.33, 0.45)
MUTED: Final = Color(0.42, 0.45, 0.50)


def check_url(status: Status) -> str:
    """The absolute address of the status's public check page, which the QR code opens."""
    return f"{settings.SITE_URL}{reverse('statuses:check', args=[status.check_token])}"


def certificate_filename(status: Status) -> str:
    return f"Статус {status.number}.pdf"


def _date(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def status_certificate_pdf(status: Status, *, compress: bool = True) -> bytes:
    """The certificate of `status`, fetched with programme, specialty and doctor (drawing reads nothing else).
    `compress=False` leaves the page stream readable (for tests)."""
    register_fonts()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1 if compress else 0)
    canvas.setTitle(f"Свидетельство о присвоении статуса {status.number}")
    canvas.setAuthor("НМО Portal")
    canvas.setCreator("НМО Portal")
    _draw_frame(canvas)
    y = _draw_heading(canvas, status)
    y = _draw_holder(canvas, status, y)
    _draw_details(canvas, status, y)
    _draw_check(canvas, check_url(status))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(2.2)
    canvas.rect(MARGIN - 5, MARGIN - 5, PAGE_WIDTH - 2 * MARGIN + 10, PAGE_HEIGHT - 2 * MARGIN + 10)
    canvas.setLineWidth(0.6)
    canvas.rect(MARGIN, MARGIN, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN)


def _centred_lines(canvas: Canvas, text: str, font: str, size: float, y: float, *, max_lines: int = 3) -> float:
    """Draw `text` centred, wrapped to the text width in at most `max_lines` lines; return the y below it."""
    lines = simpleSplit(text, font, size, TEXT_WIDTH) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and pdfmetrics.stringWidth(last + "…", font, size) > TEXT_WIDTH:
            last = last[:-1].rstrip()
        lines[-1] = last + "…"
    canvas.setFont(font, size)
    for line in lines:
        canvas.drawCentredString(CENTRE_X, y, line)
        y -= size * 1.3
    return y


def _draw_heading(canvas: Canvas, status: Status) -> float:
    canvas.setFillColor(MUTED)
    y = _centred_lines(canvas, status.programme.authority, REGULAR, 10, TOP - 34)
    canvas.setFillColor(ACCENT)
    y = _centred_lines(canvas, "Свидетельство", BOLD, 30, y - 26)
    canvas.setFillColor(INK)
    y = _centred_lines(canvas, "о присвоении статуса", BOLD, 16, y + 4)
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(CENTRE_X - 120, y + 4, CENTRE_X + 120, y + 4)
    canvas.setFillColor(ACCENT)
    return _centred_lines(canvas, f"«{status.programme.name}»", BOLD, 22, y - 30, max_lines=2)


def _draw_holder(canvas: Canvas, status: Status, y: float) -> float:
    canvas.setFillColor(INK)
    # Worded so that the holder's name stays in the nominative: names are not declined by the portal.
    y = _centred_lines(canvas, "Владелец свидетельства", REGULAR, 11, y - 18)
    y = _centred_lines(canvas, status.doctor.full_name, BOLD, 20, y - 16, max_lines=2)
    y = _centred_lines(canvas, "Статус присвоен по специальности", REGULAR, 11, y - 6)
    return _centred_lines(canvas, f"{status.specialty.code} {status.specialty.name}", BOLD, 14, y - 6)


def _draw_details(canvas: Canvas, status: Status, y: float) -> None:
    rows = [
        ("Номер", status.number, BOLD),
        ("Дата присвоения", _date(status.awarded_on), REGULAR),
        ("Срок действия истекает", _date(status.expires_on), REGULAR),
        ("Кем присвоен", status.programme.authority, REGULAR),
    ]
    y -= 30
    for label, value, font in rows:
        canvas.setFillColor(MUTED)
        canvas.setFont(REGULAR, 9)
        canvas.drawString(LEFT, y, label)
        canvas.setFillColor(INK)
        canvas.setFont(font, 11)
        for line in simpleSplit(value, font, 11, TEXT_WIDTH - LABEL_WIDTH)[:3]:
            canvas.drawString(LEFT + LABEL_WIDTH, y, line)
            y -= 14
        y -= 6


def _draw_check(canvas: Canvas, url: str) -> None:
    """The QR code centred at the foot of the page, its caption above it and the address it opens under it."""
    x = CENTRE_X - QR_SIZE / 2
    _draw_qr(canvas, url, x, QR_BOTTOM, QR_SIZE)
    canvas.setFillColor(MUTED)
    canvas.setFont(REGULAR, 8)
    canvas.drawCentredString(CENTRE_X, QR_BOTTOM + QR_SIZE + 7, "Проверка подлинности и срока действия")
    # A long SITE_URL shrinks the printed address rather than running out of the frame.
    size = 8.0
    while size > 5 and pdfmetrics.stringWidth(url, LATIN, size) > TEXT_WIDTH:
        size -= 0.5
    canvas.setFont(LATIN, size)
    canvas.drawCentredString(CENTRE_X, QR_BOTTOM - 12, url)


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as filled vector squares, one per dark module: a single page needs nothing faster."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    module = size / len(matrix)
    canvas.saveState()
    canvas.setFillColor(INK)
    path = canvas.beginPath()
    for row_index, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                path.rect(x + column * module, y + size - (row_index + 1) * module, module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
