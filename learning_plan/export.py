"""The portfolio's export: every document the doctor files, each a PDF named as a person filing names it
(«Иванова М.С. сведения об образовании.pdf»), all in one ZIP in the private storage, built by a Celery task with
its progress, and served only to the doctor.

The documents: the education of the period (the education table and its totals), the report on professional
activity (its seven sections and the employer's agreement), and one PDF per scan. Like the certificates and the
cycle's report they are Russian documents of record whatever the reader's language, so their wording is Russian
text here rather than translatable strings.

Each PDF is at most PORTFOLIO_PDF_MAX_BYTES. An image scan is converted to a PDF page and compressed (JPEG
quality, then resolution, step by step) until it fits; a scanned PDF over the limit has its images re-encoded
the same way and its content streams compressed. A scan that cannot fit fails the export with a message naming
it, which the doctor sees on the page.
"""

import json
import logging
import re
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import IO, Any, Final, TypeAlias
from xml.sax.saxutils import escape

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import BaseDocTemplate

from accounts.audit import audit_log
from accounts.models import User, WorkRecord
from accounts.work import REGIONS
from codes.certificate_pdf import BOLD, REGULAR, register_fonts
from nmo_portal.celery import enqueue_on_commit
from nmo_portal.errors import PortalError

from .models import (
    AccreditationDocument,
    Portfolio,
    PortfolioExport,
    PortfolioScan,
    ReportSection,
    RuleComponent,
    private_storage,
)
from .portfolio import (
    AlternativeHours,
    EducationItem,
    Origin,
    SpecialtyPortfolio,
    closest,
    hours_by_kind,
    period_end,
    specialty_portfolio,
)
from .report import ACCENT, HEAD_FILL, INK, MUTED, RULE, ZEBRA, _date, _generated_at, _snils, labelled_table
from .scans import MAX_PIXELS, ordered_scans, person_name, safe_name, scan_names
from .services import _own_portfolio

logger = logging.getLogger(__name__)

Counts = RuleComponent.Counts

# Names -------------------------------------------------------------------------------------------------------

EDUCATION_TITLE: Final = "Сведения об образовании"
REPORT_TITLE: Final = "Отчёт о профессиональной деятельности"
EDUCATION_NAME: Final = "сведения об образовании"
REPORT_NAME: Final = "отчёт о профессиональной деятельности"


def export_filename(portfolio: Portfolio) -> str:
    """The ZIP's name as the doctor downloads it: «Иванова М.С. портфолио 31.08.20.zip»."""
    return f"{safe_name(person_name(portfolio.doctor) + ' портфолио ' + portfolio.document.specialty.code)}.zip"


# Reading the portfolio ----------------------------------------------------------------------------------------


def portfolio_read(portfolio: Portfolio) -> SpecialtyPortfolio:
    """What the export prints of a portfolio, as its page shows it; a portfolio of a document that has since been
    renewed is read for its own document's five years."""
    document = portfolio.document
    return specialty_portfolio(doctor=portfolio.doctor, specialty=document.specialty, document=document)


# The PDFs: shared --------------------------------------------------------------------------------------------

# Short, so that the table's rows stay low: the totals below name each kind in full.
KINDS_RU: Final[dict[str, str]] = {
    "programme": "Программа",
    "event": "Мероприятие",
    "module": "Модуль",
    "other": "Иная НМО",
}
ORIGINS_RU: Final[dict[str, str]] = {
    Origin.REGISTER: "Портал НМО",
    Origin.PROGRAMME: "Внесено врачом",
    Origin.MINISTRY: "Портал Минздрава",
}
COUNTS_RU: Final[dict[str, str]] = {
    Counts.PROGRAMME: "Программы образовательных организаций",
    Counts.NMO: "НМО: мероприятия, модули и иная активность",
    Counts.EVENTS: "Образовательные мероприятия",
    Counts.MODULES: "Интерактивные образовательные модули",
}
DOCUMENT_KINDS_RU: Final[dict[str, str]] = {
    AccreditationDocument.Kind.ACCREDITATION: "Аккредитация специалиста",
    AccreditationDocument.Kind.CERTIFICATE: "Сертификат специалиста",
}
SECTIONS_RU: Final[dict[str, str]] = {
    ReportSection.Section.ORGANIZATION: "Сведения об организации",
    ReportSection.Section.UNIT: "Сведения о структурном подразделении",
    ReportSection.Section.EXPERIENCE: "Стаж работы по специальности",
    ReportSection.Section.DUTIES: "Должностные обязанности",
    ReportSection.Section.WORK: "Выполненная работа, с количественными показателями",
    ReportSection.Section.DEVELOPMENT: "Профессиональное развитие и наставничество",
    ReportSection.Section.PROPOSALS: "Предложения по совершенствованию профессиональной деятельности",
}
NOT_NEEDED_RU: Final[dict[str, str]] = {
    Portfolio.NotNeeded.NOT_EMPLOYED: "специалист не трудоустроен",
    Portfolio.NotNeeded.HEAD: "специалист является руководителем организации",
    Portfolio.NotNeeded.SELF_EMPLOYED: "специалист осуществляет деятельность самостоятельно",
}
REGION_NAMES: Final[dict[str, str]] = dict(REGIONS)

Cell: TypeAlias = str | int | Paragraph
StyleCommand: TypeAlias = tuple[Any, ...]


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("portfolio", fontName=REGULAR, fontSize=8, leading=10, textColor=INK)
    return {
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=15, leading=19, textColor=ACCENT),
        "subtitle": ParagraphStyle("subtitle", base, fontSize=9, leading=12, textColor=MUTED),
        "heading": ParagraphStyle("heading", base, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=8),
        "label": ParagraphStyle("label", base, fontSize=8.5, leading=11, textColor=MUTED),
        "value": ParagraphStyle("value", base, fontSize=9.5, leading=12),
        "name": ParagraphStyle("name", base, fontName=BOLD, fontSize=11, leading=14),
        "cell": base,
        "bold": ParagraphStyle("bold", base, fontName=BOLD),
        "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=7.5, leading=9.5),
        "head_number": ParagraphStyle(
            "head_number", base, fontName=BOLD, fontSize=7.5, leading=9.5, alignment=TA_RIGHT
        ),
        "number": ParagraphStyle("number", base, alignment=TA_RIGHT),
        "text": ParagraphStyle("text", base, fontSize=10, leading=14, spaceAfter=5),
        "empty": ParagraphStyle("empty", base, fontSize=10, leading=14, textColor=MUTED),
        "note": ParagraphStyle("note", base, fontSize=7.5, leading=9.5, textColor=MUTED),
    }


def _text(text: str, style: ParagraphStyle) -> Paragraph:
    # «№» never ends a line apart from its number.
    return Paragraph(escape(text).replace("№ ", "№\u00a0"), style)


def _period(starts_on: date, ends_on: date) -> str:
    return _date(starts_on) if starts_on == ends_on else f"{_date(starts_on)} – {_date(ends_on)}"


def _document_line(document: AccreditationDocument) -> str:
    kind = DOCUMENT_KINDS_RU.get(document.kind, document.kind)
    return f"{kind} № {document.number} от {_date(document.issued_on)}, действует до {_date(document.expires_on)}"


def _header(doctor: User, found: SpecialtyPortfolio) -> list[tuple[str, str]]:
    document = found.document
    if document is None:  # a portfolio is made with its document: there is always one
        raise ValueError("The portfolio has no document.")
    return [
        ("ФИО", doctor.full_name or doctor.email),
        ("СНИЛС", _snils(doctor) or "не указан"),
        ("Специальность", f"{found.specialty.code} {found.specialty.name}"),
        ("Документ", _document_line(document)),
        ("Период", f"{_date(document.issued_on)} – {_date(period_end(document))}"),
        ("Дата формирования", _generated_at()),
    ]


def _header_table(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle], width: float) -> Table:
    return labelled_table(rows, styles, width, label_width=38 * mm)


def _grid(rows: int) -> list[StyleCommand]:
    return [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("ROWBACKGROUNDS", (0, 1), (-1, max(rows - 1, 1)), [colors.white, ZEBRA]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def _document(
    buffer: IO[bytes], *, pagesize: tuple[float, float], title: str, doctor: User, subject: str
) -> SimpleDocTemplate:
    margin = 14 * mm
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 6 * mm,
        title=f"{title}: {doctor.full_name or doctor.email}",
        author="НМО Portal",
        creator="НМО Portal",
        subject=subject,
    )


def _footer(title: str, name: str) -> Callable[[Canvas, BaseDocTemplate], None]:
    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        y = doc.bottomMargin - 8 * mm
        canvas.drawString(doc.leftMargin, y, f"{title} · {name}")
        canvas.drawRightString(doc.pagesize[0] - doc.rightMargin, y, f"стр. {doc.page}")
        canvas.restoreState()

    return draw


# The education of the period --------------------------------------------------------------------------------

EDUCATION_HEADERS: Final = ("№", "Вид", "Наименование", "Организация", "Даты", "Часы", "Документ, ИКП", "Источник")
TOTAL_ROWS: Final = (
    ("programme", "Программы образовательных организаций"),
    ("event", "Образовательные мероприятия"),
    ("module", "Интерактивные образовательные модули"),
    ("other", "Иная активность НМО"),
)


def education_pdf(found: SpecialtyPortfolio, *, doctor: User) -> bytes:
    """The education of the document's five years: the table of every standing record, A4 landscape over as many
    pages as it needs (its header repeated), then the hours by kind and against each alternative."""
    register_fonts()
    styles = _styles()
    pagesize = landscape(A4)
    buffer = BytesIO()
    document = _document(
        buffer, pagesize=pagesize, title=EDUCATION_TITLE, doctor=doctor, subject=f"{found.specialty.code}"
    )
    width = pagesize[0] - document.leftMargin - document.rightMargin
    story: list[Flowable] = [
        Paragraph(EDUCATION_TITLE, styles["title"]),
        Paragraph("для периодической аккредитации специалиста", styles["subtitle"]),
        Spacer(0, 3 * mm),
        _header_table(_header(doctor, found), styles, width),
        Spacer(0, 2 * mm),
        Paragraph("Образование за период", styles["heading"]),
        Spacer(0, 2 * mm),
        _education_table(found.items, styles, width),
        Spacer(0, 2 * mm),
        KeepTogether(
            [
                Paragraph("Итоги по видам обучения", styles["heading"]),
                Spacer(0, 2 * mm),
                _totals_table(found.items, styles),
            ]
        ),
        KeepTogether(
            [
                Paragraph("Требования периодической аккредитации", styles["heading"]),
                Spacer(0, 2 * mm),
                *_alternatives(found.alternatives, styles),
            ]
        ),
    ]
    footer = _footer(EDUCATION_TITLE, doctor.full_name or doctor.email)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _education_table(items: list[EducationItem], styles: dict[str, ParagraphStyle], width: float) -> Table:
    cell, head = styles["cell"], styles["head"]
    # Sized to keep a date range on two lines and the origin on one; the title takes what the others leave.
    fixed = (9 + 22 + 61 + 24 + 11 + 28 + 33) * mm
    widths = (9 * mm, 22 * mm, width - fixed, 61 * mm, 24 * mm, 11 * mm, 28 * mm, 33 * mm)
    data: list[list[Cell]] = [
        [_text(label, styles["head_number"] if label in ("№", "Часы") else head) for label in EDUCATION_HEADERS]
    ]
    for number, item in enumerate(items, start=1):
        data.append(
            [
                str(number),
                _text(KINDS_RU.get(item.kind, KINDS_RU["other"]), cell),
                _text(item.title, cell),
                _text(item.organization or "—", cell),
                _text(_period(item.starts_on, item.ends_on), cell),
                str(item.hours),
                _text(item.reference or "—", cell),
                _text(ORIGINS_RU.get(item.origin, item.origin), cell),
            ]
        )
    style = _grid(len(data) + (0 if items else 1))
    style += [("ALIGN", (0, 0), (0, -1), "RIGHT"), ("ALIGN", (5, 0), (5, -1), "RIGHT")]
    if not items:
        data.append([_text("За период записей об образовании нет.", styles["note"]), "", "", "", "", "", "", ""])
        style.append(("SPAN", (0, 1), (-1, 1)))
    # LongTable lays out a table of hundreds of rows in one pass rather than again on every page.
    table = LongTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _totals_table(items: list[EducationItem], styles: dict[str, ParagraphStyle]) -> Table:
    sums = hours_by_kind(items)
    nmo = sums.get("event", 0) + sums.get("module", 0) + sums.get("other", 0)
    data: list[list[Cell]] = [[_text("Вид обучения", styles["head"]), _text("Часов", styles["head_number"])]]
    data += [[_text(label, styles["cell"]), str(sums.get(kind, 0))] for kind, label in TOTAL_ROWS]
    data.append([_text("НМО всего (мероприятия, модули и иная активность)", styles["cell"]), str(nmo)])
    data.append([_text("Всего за период", styles["bold"]), str(sum(sums.values()))])
    style = [
        *_grid(len(data) - 1),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONT", (1, -1), (1, -1), BOLD, 8),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
    ]
    table = Table(data, colWidths=(110 * mm, 25 * mm), hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _alternatives(alternatives: list[AlternativeHours], styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    if not alternatives:
        return [_text("Требования не заданы.", styles["note"])]
    data: list[list[Cell]] = [
        [
            _text("Вариант", styles["head"]),
            _text("Компонент", styles["head"]),
            _text("Требуется, ч", styles["head_number"]),
            _text("Набрано, ч", styles["head_number"]),
            _text("Итог", styles["head"]),
        ]
    ]
    for alternative in alternatives:
        for index, component in enumerate(alternative.components):
            data.append(
                [
                    _text(alternative.alternative.name if index == 0 else "", styles["cell"]),
                    _text(COUNTS_RU.get(component.counts, component.counts), styles["cell"]),
                    f"не менее {component.required}",
                    str(component.earned),
                    _text("выполнено" if not component.short else f"не хватает {component.short} ч", styles["cell"]),
                ]
            )
    style = [*_grid(len(data)), ("ALIGN", (2, 0), (3, -1), "RIGHT")]
    table = Table(data, colWidths=(70 * mm, 75 * mm, 28 * mm, 24 * mm, 40 * mm), hAlign="LEFT")
    table.setStyle(TableStyle(style))
    best = closest(alternatives)
    if best is not None and best.met:
        verdict = f"Требование по часам выполнено: «{best.alternative.name}»."
    elif best is not None:
        verdict = f"Требование по часам не выполнено; ближе всего «{best.alternative.name}»: не хватает {best.short} ч."
    else:
        verdict = ""
    return [table, Spacer(0, 2 * mm), _text(verdict, styles["value"])]


# The report on professional activity ------------------------------------------------------------------------


def report_pdf(found: SpecialtyPortfolio, *, doctor: User) -> bytes:
    """The report in its seven sections, each text wrapped and running over pages as it needs, then the employer's
    agreement as the doctor recorded it, and lines to sign."""
    register_fonts()
    styles = _styles()
    buffer = BytesIO()
    document = _document(buffer, pagesize=A4, title=REPORT_TITLE, doctor=doctor, subject=f"{found.specialty.code}")
    width = A4[0] - document.leftMargin - document.rightMargin
    header = _header(doctor, found)
    header[4:4] = [("Место работы", place) for place in _workplaces(doctor, found)]
    story: list[Flowable] = [
        Paragraph(REPORT_TITLE, styles["title"]),
        Paragraph("для периодической аккредитации специалиста", styles["subtitle"]),
        Spacer(0, 3 * mm),
        _header_table(header, styles, width),
    ]
    for number, (section, heading) in enumerate(SECTIONS_RU.items(), start=1):
        story.append(Paragraph(f"{number}. {escape(heading)}", styles["heading"]))
        saved = found.sections.get(section)
        text = saved.text.strip() if saved is not None else ""
        story += list(_paragraphs(text, styles)) or [_text("Раздел не заполнен.", styles["empty"])]
    story.append(Paragraph("Согласование с работодателем", styles["heading"]))
    story.append(_text(_agreement(found.portfolio), styles["text"]))
    story.append(Spacer(0, 8 * mm))
    story.append(_signatures(doctor, found.portfolio, styles, width))
    footer = _footer(REPORT_TITLE, doctor.full_name or doctor.email)
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _paragraphs(text: str, styles: dict[str, ParagraphStyle]) -> Iterator[Paragraph]:
    """A section's text as the doctor wrote it: a blank line starts a paragraph, a line break stays one."""
    for block in re.split(r"\n\s*\n", text):
        if block.strip():
            yield Paragraph("<br/>".join(escape(line) for line in block.strip().split("\n")), styles["text"])


def _workplaces(doctor: User, found: SpecialtyPortfolio) -> list[str]:
    """Where the doctor works in the specialty now (records without an end), else the latest record."""
    records = list(WorkRecord.objects.filter(doctor=doctor, specialty=found.specialty).order_by("-started_on", "-id"))
    current = [record for record in records if record.is_current] or records[:1]
    places = []
    for record in current:
        parts = [record.employer, f"ИНН {record.employer_inn}", REGION_NAMES.get(record.region, record.region)]
        parts += [record.unit, record.position] if record.unit else [record.position]
        until = f"по {_date(record.ended_on)}" if record.ended_on else "по настоящее время"
        places.append(f"{', '.join(parts)} (с {_date(record.started_on)} {until})")
    return places


def _agreement(portfolio: Portfolio | None) -> str:
    if portfolio is None:
        return "Не отмечено."
    on = f" ({_date(portfolio.agreement_on)})" if portfolio.agreement_on else ""
    state = portfolio.agreement
    if state == Portfolio.Agreement.AGREED:
        return f"Отчёт согласован с работодателем{on}."
    if state == Portfolio.Agreement.REQUESTED:
        return f"Согласование запрошено у работодателя{on}."
    if state == Portfolio.Agreement.REFUSED:
        return f"Работодатель отказал в согласовании{on}. Причина: {portfolio.agreement_reason}"
    if state == Portfolio.Agreement.NOT_NEEDED:
        why = NOT_NEEDED_RU.get(portfolio.agreement_not_needed, portfolio.agreement_not_needed)
        return f"Согласование не требуется: {why}{on}."
    return "Не отмечено."


def _signatures(doctor: User, portfolio: Portfolio | None, styles: dict[str, ParagraphStyle], width: float) -> Flowable:
    rows = [["Специалист", "_______________", f"/ {person_name(doctor)} /", "«___» __________ 20___ г."]]
    if portfolio is None or portfolio.agreement != Portfolio.Agreement.NOT_NEEDED:
        rows.append(["Согласовано: руководитель", "_______________", "/ _______________ /", "М. П."])
    data = [[_text(value, styles["value"]) for value in row] for row in rows]
    table = Table(data, colWidths=(45 * mm, 35 * mm, 50 * mm, width - 130 * mm), hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 10)]))
    return KeepTogether([table])


# Scans as PDFs within the limit ---------------------------------------------------------------------------------

# (the longest side in pixels, JPEG quality): tried in order until the PDF fits. 3508 px is the long side of A4
# at 300 dpi, 2480 at about 210, 1754 at 150, 1240 at about 105 dpi: still legible for a printed page.
COMPRESSION_STEPS: Final = (
    (3508, 85),
    (3508, 70),
    (2480, 70),
    (2480, 55),
    (1754, 55),
    (1754, 40),
    (1240, 40),
    (1240, 25),
)
A4_INCHES: Final = (8.27, 11.69)
ORIENTATION: Final = 0x0112  # the EXIF tag; 1 is upright


class ExportError(PortalError):
    """A document of the export that cannot be made: its code is stable, and `title` names the document."""

    def __init__(self, code: str, *, title: str) -> None:
        self.title = title
        super().__init__(export_error_message(code, title=title), code=code)


def _flat(image: Image.Image) -> Image.Image:
    """The image in a mode a JPEG holds, transparency laid on white: a scan on paper has no transparency."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return image.point(lambda value: value / 256).convert("L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = image.convert("RGBA")
        page = Image.new("RGB", rgba.size, "white")
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    return image.convert("RGB")


def _page_dpi(width: int, height: int) -> float:
    """The resolution at which an image of so many pixels fills an A4 sheet (portrait or landscape, as it is)."""
    short, long = A4_INCHES
    sheet = (long, short) if width > height else (short, long)
    return max(width / sheet[0], height / sheet[1])


def _image_page(image: Image.Image, quality: int) -> bytes:
    """One page holding the image, re-encoded as a JPEG of `quality`, at the size of an A4 sheet."""
    buffer = BytesIO()
    dpi = _page_dpi(image.width, image.height)
    image.save(buffer, "PDF", quality=quality, resolution=dpi, creator="НМО Portal", producer="НМО Portal")
    return buffer.getvalue()


def _jpeg_page(jpeg: bytes, *, width: int, height: int, grey: bool) -> bytes:
    """One page holding a JPEG as it is, at the size of an A4 sheet: PDF's DCTDecode filter reads JPEG data
    unchanged, so a scan that already fits loses nothing to a second encoding (img2pdf's approach). Pillow's PDF
    writer always encodes again, and reportlab's would grow the data by a quarter with ASCII85."""
    dpi = _page_dpi(width, height)
    page_width, page_height = width * 72 / dpi, height * 72 / dpi
    drawing = f"q {page_width:.3f} 0 0 {page_height:.3f} 0 0 cm /Im0 Do Q".encode()
    image = (
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace /{'DeviceGray' if grey else 'DeviceRGB'} /BitsPerComponent 8 /Filter /DCTDecode "
        f"/Length {len(jpeg)} >>\nstream\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_width:.3f} {page_height:.3f}] "
        f"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        image + jpeg + b"\nendstream",
        f"<< /Length {len(drawing)} >>\nstream\n".encode() + drawing + b"\nendstream",
        b"<< /Creator (NMO Portal) /Producer (NMO Portal) >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode()
    pdf += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(pdf)


def image_pdf(data: bytes, *, limit: int) -> bytes | None:
    """A JPEG or PNG scan as a one-page PDF of at most `limit` bytes, or None when even the last step is larger.
    A JPEG that fits goes in as it is; anything else is encoded step by step, smaller each time."""
    with Image.open(BytesIO(data), formats=["JPEG", "PNG"]) as source:
        if source.width * source.height > MAX_PIXELS:
            return None
        upright = source.getexif().get(ORIENTATION, 1) == 1
        if source.format == "JPEG" and source.mode in ("RGB", "L") and upright:
            pdf = _jpeg_page(data, width=source.width, height=source.height, grey=source.mode == "L")
            if len(pdf) <= limit:
                return pdf
        image = _flat(ImageOps.exif_transpose(source))
        image.load()
    for side, quality in COMPRESSION_STEPS:
        step = image.copy()
        step.thumbnail((side, side), Image.Resampling.LANCZOS)
        pdf = _image_page(step, quality)
        if len(pdf) <= limit:
            return pdf
    return None


def _recompressed(data: bytes, *, side: int, quality: int) -> tuple[bytes, int]:
    """The PDF with its images re-encoded as JPEG of at most `side` pixels a side where that makes them smaller,
    its content streams compressed and identical objects stored once; and the number of images it holds."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data), strict=False))
    images = 0
    for page in writer.pages:
        for found in page.images:
            images += 1
            if found.image is None or found.indirect_reference is None:
                continue
            picture = _flat(found.image)
            picture.thumbnail((side, side), Image.Resampling.LANCZOS)
            encoded = BytesIO()
            picture.save(encoded, "JPEG", quality=quality)
            if len(encoded.getvalue()) < len(found.data):
                found.replace(picture, quality=quality)
        page.compress_content_streams()
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), images


def pdf_within(data: bytes, *, limit: int) -> bytes | None:
    """A scanned PDF as it is when it fits, else recompressed step by step; None when it cannot be made to fit."""
    if len(data) <= limit:
        return data
    for side, quality in COMPRESSION_STEPS:
        try:
            smaller, images = _recompressed(data, side=side, quality=quality)
        except Exception:  # a PDF pypdf cannot rewrite is one it cannot make smaller
            logger.warning("Could not recompress a scanned PDF", exc_info=True)
            return None
        if len(smaller) <= limit:
            return smaller
        if not images:  # text and drawings only: the next step would make the same file
            return None
    return None


def scan_pdf(scan: PortfolioScan, *, limit: int) -> bytes:
    """The scan as a PDF of at most `limit` bytes, or ExportError naming it."""
    try:
        with private_storage().open(scan.file.name, "rb") as file:
            data = file.read(settings.PORTFOLIO_SCAN_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ExportError("export_scan_missing", title=scan.title) from None
    try:
        pdf = pdf_within(data, limit=limit) if data.startswith(b"%PDF-") else image_pdf(data, limit=limit)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ExportError("export_scan_unreadable", title=scan.title) from None
    if pdf is None:
        raise ExportError("export_scan_too_large", title=scan.title)
    return pdf


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


def export_error_message(code: str, *, title: str = "") -> str:
    """Why an export failed, for the doctor, in the current language."""
    limit = filesizeformat(settings.PORTFOLIO_PDF_MAX_BYTES)
    messages = {
        "export_scan_too_large": _(
            "The scan «%(title)s» cannot be made smaller than %(limit)s, even compressed. Scan it again at a lower "
            "resolution or split it into several files, replace it, and prepare the files again."
        ),
        "export_scan_unreadable": _(
            "The scan «%(title)s» could not be read. Remove it, upload it again, and prepare the files again."
        ),
        "export_scan_missing": _(
            "The file of the scan «%(title)s» is missing. Remove it, upload it again, and prepare the files again."
        ),
        "export_document_too_large": _(
            "The document «%(title)s» would be larger than %(limit)s. Shorten it and prepare the files again."
        ),
        "export_interrupted": _("Preparing the files was interrupted. Prepare them again."),
    }
    message = messages.get(code, _("The files could not be prepared. Try again later."))
    return message % {"title": title, "limit": limit} if "%(" in message else message


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
