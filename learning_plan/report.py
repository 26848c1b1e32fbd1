"""The activity report for the educational organization (отчёт об образовательной активности), one cycle.

The doctor hands it to the organization that admits them to accreditation, so, like the certificates, it is a
Russian document of record whatever the reader's language: its wording is Russian text here rather than
translatable strings, and names come from the Russian fields (`name`, not `display_name`).

Both formats are built from a `CyclePlan` of `learning_plan()` alone and read nothing more from the database;
the doctor's СНИЛС costs one query unless the user comes with `select_related("doctor_profile")`."""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO, StringIO
from typing import Any, Final, TypeAlias
from xml.sax.saxutils import escape

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import BaseDocTemplate

from accounts.models import User
from codes.certificate_pdf import BOLD, REGULAR, register_fonts
from credits.models import CreditEntry
from nmo_portal.calendar import register_zone
from nmo_portal.spreadsheets import csv_cell

from .models import ProgrammeEntry
from .pdf_tables import PagedTable, TextTable
from .selectors import ComponentProgress, CyclePlan, Record

TITLE: Final = "Отчёт об образовательной активности"

KIND_EVENT: Final = "Мероприятие"
KIND_MODULE: Final = "Интерактивный модуль"
KIND_PROGRAMME: Final = "Программа образовательной организации"
KIND_ADJUSTMENT: Final = "Корректировка"
KINDS: Final[dict[str, str]] = {"event": KIND_EVENT, "module": KIND_MODULE, "adjustment": KIND_ADJUSTMENT}

SOURCES: Final[dict[str, str]] = {
    CreditEntry.Source.CODE: "Код ИКП",
    CreditEntry.Source.MODULE_COMPLETION: "Завершение модуля",
    CreditEntry.Source.ADJUSTMENT: "Корректировка администратора",
}

ROW_HEADERS: Final = ("Дата зачёта", "Вид", "Наименование", "Основание", "Часы (ЗЕТ)")
TOTAL_HEADERS: Final = ("Компонент", "Требуется, ч", "Набрано, ч", "Сверх нормы, ч")
CYCLE_TOTAL: Final = "Всего в зачёт цикла"

CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
PDF_MEDIA_TYPE: Final = "application/pdf"


@dataclass(frozen=True)
class ReportRow:
    earned_on: date
    kind: str
    title: str
    source: str
    hours: int


def report_rows(plan: CyclePlan) -> list[ReportRow]:
    """The cycle's programmes and counted records, oldest first; a programme counts on the day it ended."""
    rows = [_programme_row(programme) for programme in plan.programmes]
    rows += [_record_row(record) for record in plan.records]
    return sorted(rows, key=lambda row: row.earned_on)  # stable: same-day rows keep the plan's order


def _programme_row(programme: ProgrammeEntry) -> ReportRow:
    source = f"Документ № {programme.document_number}"
    if programme.organization.strip():
        source += f", {programme.organization.strip()}"
    return ReportRow(programme.ends_on, KIND_PROGRAMME, programme.name, source, programme.hours)


def _record_row(record: Record) -> ReportRow:
    source = f"ИКП {record.code}" if record.code else SOURCES.get(record.first_source, record.first_source)
    return ReportRow(record.earned_on, KINDS.get(record.kind, record.kind), record.title, source, record.credits)


def report_filename(plan: CyclePlan, *, extension: str) -> str:
    """`nmo-report-31.08.20-2023-01-01.pdf`: the specialty and the cycle's start tell a doctor's reports apart."""
    return f"nmo-report-{plan.cycle.specialty.code}-{plan.cycle.starts_on:%Y-%m-%d}.{extension}"


def report_csv(plan: CyclePlan, *, doctor: User) -> bytes:
    """The report as CSV the way Russian Excel opens it with a double click: UTF-8 with a BOM, `;` between cells."""
    _check_owner(plan, doctor)
    buffer = StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([TITLE])
    writer.writerows([label, csv_cell(value)] for label, value in _header(plan, doctor))
    writer.writerow([])
    writer.writerow(ROW_HEADERS)
    for row in report_rows(plan):
        writer.writerow([_date(row.earned_on), row.kind, csv_cell(row.title), csv_cell(row.source), row.hours])
    writer.writerow([])
    writer.writerow(TOTAL_HEADERS)
    for progress in plan.components:
        writer.writerow([csv_cell(progress.component.name), progress.required, progress.earned, progress.above])
    writer.writerow([CYCLE_TOTAL, plan.required, plan.counted, ""])
    return buffer.getvalue().encode("utf-8-sig")


def _check_owner(plan: CyclePlan, doctor: User) -> None:
    # The plan carries no user; a report must never put one doctor's name on another's credits.
    if plan.cycle.doctor_id != doctor.pk:
        raise ValueError("The cycle belongs to another doctor.")


def _header(plan: CyclePlan, doctor: User) -> list[tuple[str, str]]:
    cycle = plan.cycle
    return [
        ("ФИО", doctor.full_name or doctor.email),
        ("СНИЛС", _snils(doctor) or "не указан"),
        ("Специальность", f"{cycle.specialty.code} {cycle.specialty.name}"),
        ("Период цикла", f"{_date(cycle.starts_on)} – {_date(cycle.ends_on)}"),
        ("Правило цикла", cycle.rule.name),
        ("Дата формирования", _generated_at()),
    ]


def _snils(doctor: User) -> str:
    try:
        return doctor.doctor_profile.snils_display
    except ObjectDoesNotExist:
        return ""


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _generated_at() -> str:
    moment: datetime = timezone.localtime(timezone.now(), register_zone())
    return f"{moment:%d.%m.%Y %H:%M} (МСК)"


# PDF ---------------------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 15 * mm
BODY_WIDTH: Final = PAGE_WIDTH - 2 * MARGIN
# Date, kind, title, source, hours: the title takes what the others leave.
ROW_WIDTHS: Final = (20 * mm, 31 * mm, BODY_WIDTH - 99 * mm, 34 * mm, 14 * mm)
TOTAL_WIDTHS: Final = (BODY_WIDTH - 84 * mm, 28 * mm, 28 * mm, 28 * mm)

# A cell range and its arguments, as reportlab's TableStyle takes them.
StyleCommand: TypeAlias = tuple[str, tuple[int, int], tuple[int, int], *tuple[Any, ...]]
Cell: TypeAlias = str | int | Paragraph

INK: Final = colors.Color(0.11, 0.16, 0.24)
ACCENT: Final = colors.Color(0.05, 0.33, 0.45)
MUTED: Final = colors.Color(0.42, 0.45, 0.50)
RULE: Final = colors.Color(0.75, 0.78, 0.82)
HEAD_FILL: Final = colors.Color(0.90, 0.94, 0.96)
ZEBRA: Final = colors.Color(0.97, 0.98, 0.99)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("report", fontName=REGULAR, fontSize=8.5, leading=10.5, textColor=INK)
    return {
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=15, leading=19, textColor=ACCENT),
        "heading": ParagraphStyle("heading", base, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=8),
        "label": ParagraphStyle("label", base, textColor=MUTED),
        "value": ParagraphStyle("value", base, fontSize=9.5, leading=12),
        "name": ParagraphStyle("name", base, fontName=BOLD, fontSize=11, leading=14),
        "cell": base,
        "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=8, leading=10),
        "head_number": ParagraphStyle("head_number", base, fontName=BOLD, fontSize=8, leading=10, alignment=TA_RIGHT),
        "minimum": ParagraphStyle("minimum", base, leftIndent=10),
        "note": ParagraphStyle("note", base, fontSize=7.5, leading=9.5, textColor=MUTED),
    }


def report_pdf(plan: CyclePlan, *, doctor: User) -> bytes:
    """The report as an A4 portrait PDF; the table of rows runs over as many pages as it needs, header repeated."""
    _check_owner(plan, doctor)
    register_fonts()
    styles = _styles()
    buffer = BytesIO()
    name = doctor.full_name or doctor.email
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=f"{TITLE}: {name}",
        author="НМО Portal",
        creator="НМО Portal",
        subject=f"{plan.cycle.specialty.code} {_date(plan.cycle.starts_on)} – {_date(plan.cycle.ends_on)}",
    )
    story: list[Flowable] = [
        Paragraph(TITLE, styles["title"]),
        Spacer(0, 3 * mm),
        _header_table(plan, doctor, styles),
        Spacer(0, 2 * mm),
        Paragraph("Зачтённая образовательная активность", styles["heading"]),
        Spacer(0, 2 * mm),
        _rows_table(report_rows(plan), styles),
        Spacer(0, 2 * mm),
        # The totals are short: they move to the next page whole rather than lose their header.
        KeepTogether(
            [
                Paragraph("Итоги по компонентам цикла", styles["heading"]),
                Spacer(0, 2 * mm),
                _totals_table(plan, styles),
                Spacer(0, 2 * mm),
                Paragraph(
                    "Часы «сверх нормы» в зачёт цикла не входят: каждый блок засчитывается не более своей нормы.",
                    styles["note"],
                ),
            ]
        ),
    ]

    def footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        y = MARGIN - 2 * mm
        canvas.drawString(MARGIN, y, f"{TITLE} · {name}")
        canvas.drawRightString(PAGE_WIDTH - MARGIN, y, f"стр. {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _text(text: str, style: ParagraphStyle) -> Paragraph:
    # «№» never ends a line apart from its number.
    return Paragraph(escape(text).replace("№ ", "№\u00a0"), style)


def _fitter(style: ParagraphStyle, width: float) -> Callable[[str], str]:
    """A text broken into the lines that fit the column, as a plain cell: a report may have hundreds of rows, and
    laying out a paragraph per cell costs many times more than drawing its lines. The lines break as reportlab's
    `simpleSplit` breaks them (a word goes on the line while it fits, a line holds one word at least), each
    distinct text and each distinct word measured once."""
    font = getFont(style.fontName)
    widths: dict[str, float] = {}

    def measured(word: str) -> float:
        found = widths.get(word)
        if found is None:
            found = widths[word] = font.stringWidth(word, style.fontSize)
        return found

    space = measured(" ")
    fitted: dict[str, str] = {}

    def fit(text: str) -> str:
        found = fitted.get(text)
        if found is None:
            lines = []
            for paragraph in text.split("\n"):
                line: list[str] = []
                used = -space
                for word in paragraph.split():
                    size = measured(word)
                    if used + space + size <= width or not line:
                        line.append(word)
                        used = used + space + size
                    else:
                        lines.append(" ".join(line))
                        line, used = [word], size
                if line:
                    lines.append(" ".join(line))
            found = fitted[text] = "\n".join(lines)
        return found

    return fit


def _header_table(plan: CyclePlan, doctor: User, styles: dict[str, ParagraphStyle]) -> Table:
    return labelled_table(_header(plan, doctor), styles, BODY_WIDTH)


def labelled_table(
    rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle], width: float, label_width: float = 36 * mm
) -> Table:
    """A document's heading block: a label and its value per row, the first value (the person's name) larger."""
    data = [
        [_text(label, styles["label"]), _text(value, styles["name" if index == 0 else "value"])]
        for index, (label, value) in enumerate(rows)
    ]
    table = Table(data, colWidths=(label_width, width - label_width), hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _grid_style(*, rows: int, numbers_from: int) -> list[StyleCommand]:
    return [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5, 10.5),  # the leading of the paragraphs' style
        ("FONT", (0, 0), (-1, 0), BOLD, 8, 10),  # the "head" style's
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (numbers_from, 0), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("ROWBACKGROUNDS", (0, 1), (-1, rows - 1), [colors.white, ZEBRA]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]


def _head(labels: Iterable[str], styles: dict[str, ParagraphStyle], widths: Iterable[float]) -> list[Cell]:
    """The header row as plain cells, broken into the lines of their columns (the grid's style sets their font,
    that of the "head" style: drawn on every page a table runs over, as paragraphs they would cost more than the
    rows)."""
    return [_fitter(styles["head"], width - 6)(label) for label, width in zip(labels, widths, strict=True)]


def _rows_table(rows: list[ReportRow], styles: dict[str, ParagraphStyle]) -> Flowable:
    cell = styles["cell"]
    data: list[list[Cell]] = [_head(ROW_HEADERS, styles, ROW_WIDTHS)]
    kind, title, source = (_fitter(cell, width - 6) for width in ROW_WIDTHS[1:4])  # less the cell's padding
    for row in rows:
        data.append([_date(row.earned_on), kind(row.kind), title(row.title), source(row.source), row.hours])
    if not rows:
        data.append([_text("В цикле пока нет зачтённой активности.", styles["note"]), "", "", "", ""])

    def style_for(count: int) -> list[StyleCommand]:
        style = _grid_style(rows=count, numbers_from=4)
        if not rows:
            style.append(("SPAN", (0, 1), (-1, 1)))
        return style

    return PagedTable(data, col_widths=ROW_WIDTHS, style_for=style_for)


def _totals_table(plan: CyclePlan, styles: dict[str, ParagraphStyle]) -> Table:
    data: list[list[Cell]] = [_head(TOTAL_HEADERS, styles, TOTAL_WIDTHS)]
    for progress in plan.components:
        data.append(_total_row(progress, styles))
    data.append([_text(CYCLE_TOTAL, styles["head"]), plan.required, plan.counted, ""])
    style = _grid_style(rows=len(data) - 1, numbers_from=1)
    style += [
        ("FONT", (1, -1), (-1, -1), BOLD, 8.5),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
    ]
    table = TextTable(data, colWidths=TOTAL_WIDTHS, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _total_row(progress: ComponentProgress, styles: dict[str, ParagraphStyle]) -> list[Cell]:
    component = progress.component
    name = _text(component.name, styles["minimum" if component.is_minimum else "cell"])
    return [name, progress.required, progress.earned, progress.above or "—"]
