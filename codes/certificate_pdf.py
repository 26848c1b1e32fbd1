"""Certificates (Свидетельство НМО) as PDF: one A4 landscape page per ИКП code, with a QR code to the check page.

A certificate is a Russian document of record whatever the reader's language, so its wording is Russian text
here rather than translatable strings; only the accompanying e-mail follows the interface's translations.

What every page shares is drawn once per document as PDF form XObjects: the frame and headings once, and each
event's title and details once per event. A page then adds only the holder, the code and the QR code, which
keeps a congress's file small and quick to build."""

from collections.abc import Iterable, Sequence
from functools import cache
from io import BytesIO
from typing import IO, Final

import qrcode
from django.conf import settings
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from events.models import Event

from .format import format_code
from .models import IcpCode

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

    url = code.verify_url()
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
