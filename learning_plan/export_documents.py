"""The two documents of the portfolio's export that the portal writes itself, as PDFs: the education of the
period (the education table and its totals, and the hours against each alternative) and the report on
professional activity (its seven sections and the employer's agreement). Like the certificates and the cycle's
report they are Russian documents of record whatever the reader's language, so their wording is Russian text
here rather than translatable strings. The ZIP that holds them is built in `export.py`."""

import re
from collections.abc import Callable, Iterator
from datetime import date
from io import BytesIO
from typing import IO, Any, Final, TypeAlias
from xml.sax.saxutils import escape

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

from accounts.models import User, WorkRecord
from accounts.work import REGIONS
from codes.certificate_pdf import BOLD, REGULAR, register_fonts

from .education import EducationItem, Origin, hours_by_kind
from .models import AccreditationDocument, Portfolio, ReportSection, RuleComponent
from .portfolio import AlternativeHours, SpecialtyPortfolio, closest, period_end
from .report import ACCENT, HEAD_FILL, INK, MUTED, RULE, ZEBRA, _date, _generated_at, _snils, labelled_table
from .scans import person_name

Counts = RuleComponent.Counts

# Names -------------------------------------------------------------------------------------------------------

EDUCATION_TITLE: Final = "Сведения об образовании"
REPORT_TITLE: Final = "Отчёт о профессиональной деятельности"
EDUCATION_NAME: Final = "сведения об образовании"
REPORT_NAME: Final = "отчёт о профессиональной деятельности"


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
