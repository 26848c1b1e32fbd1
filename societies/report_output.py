"""The society report drawn: bar charts laid out for the page's SVG, the figures as labelled rows, and the CSV
and PDF files (the figures themselves come from societies.report)."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from nmo_portal.calendar import register_zone
from nmo_portal.spreadsheets import csv_cell

from .report import SocietyReport

# --- charts -------------------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: int
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    label_x: float = 0
    label_y: float = 0
    value_y: float = 0


@dataclass
class Chart:
    """A bar chart laid out for the template (societies/includes/report_chart.svg): no JS, no inline styles."""

    title: str
    bars: list[Bar]
    width: int = 640
    height: int = 220
    baseline: float = 190

    @property
    def description(self) -> str:
        return f"{self.title}: " + "; ".join(f"{bar.label} — {bar.value}" for bar in self.bars)


def bar_chart(title: str, values: list[tuple[str, int]], *, width: int = 640, height: int = 220) -> Chart:
    top, bottom = 24, 30
    chart = Chart(title=title, bars=[], width=width, height=height, baseline=height - bottom)
    peak = max([value for _label, value in values] + [1])
    slot = width / max(len(values), 1)
    for index, (label, value) in enumerate(values):
        bar_height = (height - top - bottom) * max(value, 0) / peak
        chart.bars.append(
            Bar(
                label=label,
                value=value,
                x=round(index * slot + slot * 0.15, 1),
                y=round(chart.baseline - bar_height, 1),
                width=round(slot * 0.7, 1),
                height=round(bar_height, 1),
                label_x=round(index * slot + slot / 2, 1),
                label_y=height - 10,
                value_y=round(chart.baseline - bar_height - 6, 1),
            )
        )
    return chart


def progress_labels() -> dict[str, str]:
    return {"lt25": _("under 25%"), "25to50": _("25–50%"), "50to75": _("50–75%"), "ge75": _("75% and more")}


def month_labels() -> list[str]:
    from django.utils.dates import MONTHS_3

    return [str(MONTHS_3[month]).capitalize() for month in range(1, 13)]


def charts(report: SocietyReport) -> list[Chart]:
    return [
        bar_chart(
            _("Decisions by outcome"),
            [(_("approved"), report.approved), (_("rejected"), report.rejected), (_("returned"), report.returned)],
        ),
        bar_chart(_("Cycles by progress"), [(label, report.progress[key]) for key, label in progress_labels().items()]),
        bar_chart(_("Credits by month"), list(zip(month_labels(), report.credits_by_month, strict=True))),
    ]


# --- the figures as rows, for the page, the CSV and the PDF ----------------------------------------------------


def figure_rows(report: SocietyReport) -> list[tuple[str, str]]:
    share = report.codes_activated_share
    median = report.median_review_days
    rows = [
        (_("Activities submitted"), str(report.submitted)),
        (_("Approved"), str(report.approved)),
        (_("Rejected"), str(report.rejected)),
        (_("Returned for changes"), str(report.returned)),
        (_("Credits granted"), str(report.credits)),
        (_("Median review, days"), "—" if median is None else f"{Decimal(median).quantize(Decimal('0.1'))}"),
        (_("Overdue reviews now"), str(report.overdue)),
        (_("ИКП codes issued"), str(report.codes_issued)),
        (_("ИКП codes activated"), str(report.codes_activated)),
        (_("Share of codes activated"), "—" if share is None else f"{share * 100:.1f}%"),
        (_("Module completions"), str(report.module_completions)),
        (_("Cycles running"), str(report.cycles_running)),
        (_("Doctors with cycles"), str(report.doctors_with_cycles)),
    ]
    rows += [
        (_("Cycles at %(progress)s") % {"progress": label}, str(report.progress[key]))
        for key, label in progress_labels().items()
    ]
    if report.survey_responses is not None:
        rows.append((_("Survey responses"), str(report.survey_responses)))
    return rows


def report_csv(report: SocietyReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Figure"), _("Value")])
    writer.writerow([_("Year"), str(report.year)])
    writer.writerow([_("Specialties"), csv_cell(", ".join(report.specialties))])
    writer.writerow([_("Figures as of"), generated_at(report)])
    for label, value in figure_rows(report):
        writer.writerow([csv_cell(label), csv_cell(value)])
    for month, credits in zip(month_labels(), report.credits_by_month, strict=True):
        writer.writerow([csv_cell(_("Credits in %(month)s") % {"month": month}), str(credits)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_filename(report: SocietyReport, *, extension: str) -> str:
    return f"society-{report.society_id}-report-{report.year}.{extension}"


def generated_at(report: SocietyReport) -> str:
    moment = timezone.localtime(report.computed_at, register_zone())
    return f"{moment:%d.%m.%Y %H:%M}"


def report_pdf(report: SocietyReport, *, society_name: str) -> bytes:
    """The report as an A4 PDF: the figures, then the credits by month, in the certificates' Cyrillic font."""
    from io import BytesIO
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from codes.certificate_pdf import BOLD, REGULAR, register_fonts

    register_fonts()
    base = ParagraphStyle("report", fontName=REGULAR, fontSize=9.5, leading=12)
    title_style = ParagraphStyle("title", base, fontName=BOLD, fontSize=15, leading=19)
    heading = ParagraphStyle("heading", base, fontName=BOLD, fontSize=11, leading=14, spaceBefore=6)
    buffer = BytesIO()
    title = _("The society report for %(year)d") % {"year": report.year}
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{title}: {society_name}",
        author="НМО Portal",
        creator="НМО Portal",
    )

    def table(rows: list[tuple[str, str]]) -> Table:
        cells = [[Paragraph(escape(label), base), Paragraph(escape(value), base)] for label, value in rows]
        grid = Table(cells, colWidths=[120 * mm, 50 * mm])
        grid.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return grid

    story: list[Flowable] = [
        Paragraph(escape(title), title_style),
        Paragraph(escape(society_name), base),
        Paragraph(escape(_("Specialties: %(codes)s") % {"codes": ", ".join(report.specialties)}), base),
        Paragraph(escape(_("As of %(moment)s") % {"moment": generated_at(report)}), base),
        Spacer(0, 4 * mm),
        table(figure_rows(report)),
        Paragraph(escape(_("Credits by month")), heading),
        table([(label, str(value)) for label, value in zip(month_labels(), report.credits_by_month, strict=True)]),
        Spacer(0, 3 * mm),
        Paragraph(
            escape(
                _(
                    "A cycle's progress counts the НМО credits of its specialty earned within its dates against "
                    "its rule's total hours."
                )
            ),
            base,
        ),
    ]
    document.build(story)
    return buffer.getvalue()
