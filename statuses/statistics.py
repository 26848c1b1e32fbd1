"""A programme's statistics (SPEC.md, "Status programmes": "per programme: applicants, pass rates per stage and
specialty"), for administrators and the programme's commission.

Counted per specialty: the doctors who applied (each once) and their applications, the applications by outcome,
and the statuses valid today that those applications brought; per stage and specialty: the results recorded
(«reached»), passed and failed, and the pass rate, passed / recorded in whole per cent (half up). `year` narrows
everything to the applications submitted in that calendar year of the register's zone.

Every figure is a database aggregate (values() + annotate(Count)), so the page takes the same handful of queries
however many applications, stages and specialties there are."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Specialty, User
from nmo_portal.calendar import register_zone, today
from nmo_portal.spreadsheets import csv_cell
from societies.report import parse_year
from societies.report_output import Chart, bar_chart

from .models import CommissionMember, ProgrammeStage, StageResult, Status, StatusApplication, StatusProgramme

OUTCOMES = tuple(StatusApplication.State)  # open, withdrawn, failed, awarded, refused
CHART_LABEL_CHARS = 26


def may_view(user: User, programme: StatusProgramme) -> bool:
    """Administrators, and whoever sits on the programme's commission now (in any of its specialties)."""
    if user.is_staff:
        return True
    return CommissionMember.objects.filter(user=user, programme=programme, retired_at__isnull=True).exists()


def parse_statistics_year(raw: str | None) -> int | None:
    """`?year=`: empty is every year; otherwise a year as the society report takes it (PortalError for junk)."""
    if raw is None or raw == "":
        return None
    return parse_year(raw)


def pass_rate(passed: int, recorded: int) -> int | None:
    """Passed of recorded, in whole per cent rounded half up (1 of 8 is 13%); None when nothing is recorded."""
    if not recorded:
        return None
    return int((Decimal(passed) * 100 / Decimal(recorded)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class SpecialtyFigures:
    """One specialty's applicants and outcomes (`specialty` None: the programme as a whole)."""

    specialty: Specialty | None
    doctors: int = 0
    applications: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    valid_statuses: int = 0

    def outcome_list(self) -> list[int]:
        return [self.outcomes[state] for state in OUTCOMES]

    def outcome_cells(self) -> list[tuple[str, int]]:
        """(the outcome's name, its count) in the order of OUTCOMES, for the page's cells."""
        return list(zip(outcome_labels(), self.outcome_list(), strict=True))


@dataclass
class StageFigures:
    """One stage's recorded results in one specialty (`specialty` None: every specialty)."""

    stage: ProgrammeStage
    specialty: Specialty | None
    passed: int = 0
    failed: int = 0

    @property
    def reached(self) -> int:
        return self.passed + self.failed

    @property
    def pass_rate(self) -> int | None:
        return pass_rate(self.passed, self.reached)


@dataclass
class StageBlock:
    stage: ProgrammeStage
    total: StageFigures
    rows: list[StageFigures]


@dataclass
class ProgrammeStatistics:
    programme: StatusProgramme
    year: int | None
    specialties: list[SpecialtyFigures]
    total: SpecialtyFigures
    stages: list[StageBlock]
    as_of: datetime


def _submitted_in(year: int | None, prefix: str = "") -> Q:
    if year is None:
        return Q()
    zone = register_zone()
    return Q(
        **{
            f"{prefix}submitted_at__gte": datetime(year, 1, 1, tzinfo=zone),
            f"{prefix}submitted_at__lt": datetime(year + 1, 1, 1, tzinfo=zone),
        }
    )


def _applications(programme: StatusProgramme, year: int | None) -> QuerySet[StatusApplication]:
    return StatusApplication.objects.filter(_submitted_in(year), programme=programme).order_by()


def programme_statistics(*, programme: StatusProgramme, year: int | None = None) -> ProgrammeStatistics:
    """The figures from the database now, in six queries whatever the data (see the module's docstring)."""
    applications = _applications(programme, year)
    specialties = list(
        Specialty.objects.filter(Q(status_programmes=programme) | Q(pk__in=applications.values("specialty_id")))
        .distinct()
        .order_by("code")
    )
    stages = list(programme.stages.order_by("position"))

    by_specialty = {s.pk: SpecialtyFigures(specialty=s) for s in specialties}
    total = SpecialtyFigures(specialty=None)
    outcome_counts = {f"n_{state}": Count("id", filter=Q(state=state)) for state in OUTCOMES}
    for row in applications.values("specialty_id").annotate(
        doctors=Count("doctor_id", distinct=True), applications=Count("id"), **outcome_counts
    ):
        figures = by_specialty[row["specialty_id"]]
        figures.doctors, figures.applications = row["doctors"], row["applications"]
        for state in OUTCOMES:
            figures.outcomes[state] = row[f"n_{state}"]
            total.outcomes[state] += row[f"n_{state}"]
        total.applications += row["applications"]
    total.doctors = applications.aggregate(doctors=Count("doctor_id", distinct=True))["doctors"]

    statuses = (
        Status.objects.valid_on(today())
        .not_renewed()
        .filter(_submitted_in(year, "application__"), programme=programme)
        .order_by()
        .values("specialty_id")
        .annotate(n=Count("id"))
    )
    for row in statuses:
        if row["specialty_id"] in by_specialty:
            by_specialty[row["specialty_id"]].valid_statuses = row["n"]
        total.valid_statuses += row["n"]

    results = (
        StageResult.objects.filter(
            _submitted_in(year, "application__"), application__programme=programme, passed__isnull=False
        )
        .order_by()
        .values("stage_id", "application__specialty_id")
        .annotate(n_passed=Count("id", filter=Q(passed=True)), n_failed=Count("id", filter=Q(passed=False)))
    )
    counted = {(row["stage_id"], row["application__specialty_id"]): row for row in results}
    applied = [s for s in specialties if by_specialty[s.pk].applications]
    blocks = []
    for stage in stages:
        rows = []
        for specialty in applied:
            row = counted.get((stage.pk, specialty.pk), {"n_passed": 0, "n_failed": 0})
            rows.append(StageFigures(stage, specialty, passed=row["n_passed"], failed=row["n_failed"]))
        block_total = StageFigures(stage, None, passed=sum(r.passed for r in rows), failed=sum(r.failed for r in rows))
        blocks.append(StageBlock(stage=stage, total=block_total, rows=rows))

    return ProgrammeStatistics(
        programme=programme,
        year=year,
        specialties=list(by_specialty.values()),
        total=total,
        stages=blocks,
        as_of=timezone.now(),
    )


def outcome_labels() -> list[str]:
    return [str(label) for label in StatusApplication.State.labels]


def stage_label(stage: ProgrammeStage) -> str:
    return f"{stage.position}. {stage.display_name}"


@dataclass
class RateChart(Chart):
    """The society report's chart, its text alternative naming each stage whole (a bar's label is cut to fit)."""

    names: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        rates = (f"{name} — {bar.value}%" for name, bar in zip(self.names, self.bars, strict=True))
        return f"{self.title}: " + "; ".join(rates)


def pass_rate_chart(statistics: ProgrammeStatistics) -> RateChart | None:
    """The pass rate of each stage that has results, every specialty together; None when no stage has any.

    The society report's bars scale to the highest one; a rate is drawn against 100% instead, so that a
    stage half passed shows a bar half as tall as a stage everyone passed."""
    rates = [
        (stage_label(block.stage), rate) for block in statistics.stages if (rate := block.total.pass_rate) is not None
    ]
    if not rates:
        return None
    laid_out = bar_chart(
        _("Pass rate by stage, %"), [(Truncator(name).chars(CHART_LABEL_CHARS), rate) for name, rate in rates]
    )
    peak = max([rate for _name, rate in rates] + [1])
    for bar in laid_out.bars:
        bar.height = round(bar.height * peak / 100, 1)
        bar.y = round(laid_out.baseline - bar.height, 1)
        bar.value_y = round(bar.y - 6, 1)
    return RateChart(
        title=laid_out.title,
        bars=laid_out.bars,
        width=laid_out.width,
        height=laid_out.height,
        baseline=laid_out.baseline,
        names=[name for name, _rate in rates],
    )


def rate_text(rate: int | None) -> str:
    return "—" if rate is None else f"{rate}%"


def statistics_csv(statistics: ProgrammeStatistics) -> bytes:
    """The figures as CSV in UTF-8 with a BOM (so spreadsheet applications read the Cyrillic): every cell goes
    through the formula guard, since programme, specialty and stage names are typed by people."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*cells: object) -> None:
        writer.writerow([csv_cell(str(cell)) for cell in cells])

    row(_("Programme"), statistics.programme.display_name)
    row(_("Year of submission"), statistics.year if statistics.year is not None else _("All years"))
    row()
    row(
        _("Specialty code"),
        _("Specialty"),
        _("Doctors"),
        _("Applications"),
        *outcome_labels(),
        _("Valid statuses now"),
    )
    for figures in [*statistics.specialties, statistics.total]:
        code, name = (figures.specialty.code, figures.specialty.display_name) if figures.specialty else ("", _("Total"))
        row(code, name, figures.doctors, figures.applications, *figures.outcome_list(), figures.valid_statuses)
    row()
    row(
        _("Stage"),
        _("Specialty code"),
        _("Specialty"),
        pgettext("stage results", "Reached"),
        pgettext("stage results", "Passed"),
        pgettext("stage results", "Failed"),
        _("Pass rate"),
    )
    for block in statistics.stages:
        for stage_row in [*block.rows, block.total]:
            code, name = (
                (stage_row.specialty.code, stage_row.specialty.display_name)
                if stage_row.specialty
                else ("", _("All specialties"))
            )
            row(
                stage_label(block.stage),
                code,
                name,
                stage_row.reached,
                stage_row.passed,
                stage_row.failed,
                rate_text(stage_row.pass_rate),
            )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_filename(statistics: ProgrammeStatistics) -> str:
    year = f"-{statistics.year}" if statistics.year is not None else ""
    return f"status-programme-{statistics.programme.slug}-statistics{year}.csv"
