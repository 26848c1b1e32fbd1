"""The society report for the Board's Plenum: a year's figures of the society's specialties (or one of them).

Every figure is a database aggregate (COUNT, SUM, the median with PERCENTILE_CONT on PostgreSQL) read through each
activity kind's specialties table, so the report takes the same dozen queries however many activities, codes,
ledger rows and cycles there are. At national scale that is still tens of seconds for a large society, so the
figures are computed in the background and kept (societies.report_prepared); the page says as of when.

What is counted:
- decisions are the review's transition rows in the year: submissions (to "submitted"), approvals, rejections and
  returns for changes;
- credits are the ledger's rows (credits and their reversals, so net) of the specialty's activities earned in
  the year, by month;
- review days run from the submission before a decision to the decision, for the decisions of the year; overdue
  are the activities in review past their due time now;
- codes are the ИКП codes issued in the year for the specialty's events, and how many of them are activated;
- module completions are those completed in the year;
- cycles are those running on the last day of the year (today for the current year); a cycle's progress is an
  approximation: the НМО credits of its specialty earned within its dates against its rule's total hours
  (programmes of educational organizations and the rule's components are not counted here).
"""

import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, Specialty
from codes.models import IcpCode
from credits.models import CreditEntry
from events.models import Event, EventTransition
from learning_plan.models import Cycle
from modules.models import Module, ModuleCompletion, ModuleTransition
from nmo_portal.calendar import register_zone
from nmo_portal.errors import PortalError
from review.models import Status

from .models import AnswerSet

FIRST_YEAR = 2000
DECISIONS = (Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED)
# progress buckets: the lower bound of each, in quarters of the rule's total hours
BUCKETS = ("lt25", "25to50", "50to75", "ge75")


def parse_year(raw: str | None) -> int:
    """The year asked for (`?year=`), the current one when not given; bounded before it is parsed."""
    today = timezone.localdate()
    if raw is None or raw == "":
        return today.year
    if len(raw) > 4 or not raw.isascii() or not raw.isdigit():
        raise PortalError(_("Give the year as four digits, e.g. %(year)d.") % {"year": today.year}, code="year_invalid")
    year = int(raw)
    if not FIRST_YEAR <= year <= today.year:
        raise PortalError(
            _("Choose a year between %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": today.year},
            code="year_out_of_range",
        )
    return year


def parse_specialty(society: Organization, raw: str | None) -> Specialty | None:
    """One of the society's specialties by its code (`?specialty=`), or None for all of them."""
    if raw is None or raw == "":
        return None
    if len(raw) > 20 or "\x00" in raw:
        raise PortalError(_("The society is not responsible for this specialty."), code="specialty_not_in_society")
    specialty = society.specialties.filter(code=raw).first()
    if specialty is None:
        raise PortalError(_("The society is not responsible for this specialty."), code="specialty_not_in_society")
    return specialty


@dataclass
class SocietyReport:
    society_id: int
    year: int
    specialties: list[str]
    computed_at: datetime
    submitted: int = 0
    approved: int = 0
    rejected: int = 0
    returned: int = 0
    credits: int = 0
    credits_by_month: list[int] = field(default_factory=lambda: [0] * 12)
    median_review_days: float | None = None
    decisions_timed: int = 0
    overdue: int = 0
    codes_issued: int = 0
    codes_activated: int = 0
    module_completions: int = 0
    cycles_running: int = 0
    doctors_with_cycles: int = 0
    progress: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    survey_responses: int | None = None

    @property
    def codes_activated_share(self) -> float | None:
        """The share of the year's codes activated, 0..1 (None when none were issued)."""
        return self.codes_activated / self.codes_issued if self.codes_issued else None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["computed_at"] = self.computed_at.isoformat()
        data["codes_activated_share"] = (
            None if self.codes_activated_share is None else round(self.codes_activated_share, 4)
        )
        data["median_review_days"] = None if self.median_review_days is None else round(self.median_review_days, 2)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SocietyReport":
        """The report kept as `as_json` wrote it (societies.models.PreparedReport.figures)."""
        names = set(cls.__dataclass_fields__)
        kept = {name: value for name, value in data.items() if name in names}
        kept["computed_at"] = datetime.fromisoformat(data["computed_at"])
        return cls(**kept)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    zone = register_zone()
    return (
        datetime(year, 1, 1, tzinfo=zone),
        datetime(year + 1, 1, 1, tzinfo=zone),
    )


def _ids_of(model: type[Event] | type[Module], specialty_ids: list[int]) -> QuerySet[Any]:
    """The ids of the kind's activities of these specialties, as a subquery on its specialties table (indexed)."""
    through = model.specialties.through
    own = f"{model._meta.model_name}_id"
    ids: QuerySet[Any] = through.objects.filter(specialty_id__in=specialty_ids).values(own)
    return ids


def _survey_responses(society: Organization, year: int) -> int | None:
    """The responses to the society's needs surveys that opened in the year."""
    return AnswerSet.objects.filter(survey__society=society, survey__opens_on__year=year).count()


def _median_days(decided: list[QuerySet[Any]]) -> tuple[float | None, int]:
    """The median of days from submission to decision over the querysets (each gives `decided` and `submitted`),
    in the database on PostgreSQL; elsewhere (SQLite in a pinch) over the fetched pairs."""
    if connection.vendor == "postgresql":
        parts: list[str] = []
        params: list[Any] = []
        for queryset in decided:
            sql, part_params = queryset.values("decided", "submitted").query.sql_with_params()
            parts.append(f"({sql})")
            params.extend(part_params)
        union = " UNION ALL ".join(parts)
        with connection.cursor() as cursor:
            # the union is the ORM's own SQL of the querysets, with their values passed as parameters
            median = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (t.decided - t.submitted)))"
            sql = " ".join(["SELECT", median, ", COUNT(*) FROM (", union, ") t WHERE t.submitted IS NOT NULL"])
            cursor.execute(sql, params)
            seconds, count = cursor.fetchone()
        return (None if seconds is None else float(seconds) / 86400, int(count))
    days = [
        (row["decided"] - row["submitted"]).total_seconds() / 86400
        for queryset in decided
        for row in queryset.values("decided", "submitted")
        if row["submitted"] is not None
    ]
    return (statistics.median(days) if days else None, len(days))


def _transitions(
    model: type[EventTransition] | type[ModuleTransition],
    column: str,
    ids: QuerySet[Any],
    start: datetime,
    end: datetime,
) -> QuerySet[Any]:
    return model.objects.filter(**{f"{column}_id__in": ids}, created_at__gte=start, created_at__lt=end)


def _per_activity(
    ids: QuerySet[Any],
    model: type[IcpCode] | type[ModuleCompletion],
    activity: str,
    moment: str,
    period: tuple[datetime, datetime],
    aggregates: str,
    params: list[Any],
) -> tuple[int, ...]:
    """`aggregates` over the rows `t` of `model` of the activities `ids` whose `moment` is within `period`, on
    PostgreSQL, read activity by activity from the (activity, moment) index (`icp_event_created_idx` with the
    status included, `completion_module_time_idx`): a lateral join per activity, so the work is the rows counted,
    not the table. As `activity_id IN (ids)`, the planner hashes the society's half of the activities and scans
    the whole table."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = {field.name: field for field in model._meta.concrete_fields}
    column, moment_column = quote(fields[activity].column), quote(fields[moment].column)
    ids_sql, ids_params = ids.query.sql_with_params()
    # the models' own table and column names and the ORM's SQL of `ids`; every value is a parameter
    sql = " ".join(
        [
            "SELECT",
            aggregates,
            "FROM (SELECT DISTINCT a.id FROM (",
            ids_sql,
            ") a(id)) a CROSS JOIN LATERAL (SELECT * FROM",
            table,
            "r WHERE",
            "r." + column + " = a.id AND",
            "r." + moment_column + " >= %s AND",
            "r." + moment_column + " < %s) t",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids_params, *period])
        return tuple(int(value) for value in cursor.fetchone())


def compute_report(*, society: Organization, year: int, specialty: Specialty | None = None) -> SocietyReport:
    """The figures, from the database now (see the module's docstring for what each counts)."""
    specialties = [specialty] if specialty is not None else list(society.specialties.order_by("code"))
    specialty_ids = [s.pk for s in specialties]
    report = SocietyReport(
        society_id=society.pk, year=year, specialties=[s.code for s in specialties], computed_at=timezone.now()
    )
    start, end = _year_bounds(year)
    event_ids, module_ids = _ids_of(Event, specialty_ids), _ids_of(Module, specialty_ids)

    steps = {
        "submitted": Count("id", filter=Q(to_status=Status.SUBMITTED)),
        "approved": Count("id", filter=Q(to_status=Status.APPROVED)),
        "rejected": Count("id", filter=Q(to_status=Status.REJECTED)),
        "returned": Count("id", filter=Q(to_status=Status.CHANGES_REQUESTED)),
    }
    decided = []
    for model, column, ids in ((EventTransition, "event", event_ids), (ModuleTransition, "module", module_ids)):
        rows = _transitions(model, column, ids, start, end)
        for name, value in rows.aggregate(**steps).items():
            setattr(report, name, getattr(report, name) + value)
        submission = model.objects.filter(
            **{column: OuterRef(column)}, to_status=Status.SUBMITTED, created_at__lte=OuterRef("created_at")
        ).order_by("-created_at", "-id")
        decided.append(
            rows.filter(to_status__in=DECISIONS).annotate(
                decided=F("created_at"), submitted=Subquery(submission.values("created_at")[:1])
            )
        )
    report.median_review_days, report.decisions_timed = _median_days(decided)

    report.overdue = (
        Event.objects.overdue().filter(pk__in=event_ids).count()
        + Module.objects.overdue().filter(pk__in=module_ids).count()
    )

    months = {f"m{month}": Coalesce(Sum("credits", filter=Q(earned_on__month=month)), 0) for month in range(1, 13)}
    credited = CreditEntry.objects.filter(
        Q(activity_kind=Event.kind, activity_id__in=event_ids)
        | Q(activity_kind=Module.kind, activity_id__in=module_ids),
        earned_on__gte=date(year, 1, 1),
        earned_on__lte=date(year, 12, 31),
    ).aggregate(total=Coalesce(Sum("credits"), 0), **months)
    report.credits = credited["total"]
    report.credits_by_month = [credited[f"m{month}"] for month in range(1, 13)]

    if connection.vendor == "postgresql":
        activated = connection.ops.quote_name(IcpCode._meta.get_field("status").column)
        report.codes_issued, report.codes_activated = _per_activity(
            event_ids,
            IcpCode,
            "event",
            "created_at",
            (start, end),
            f"COUNT(*), COUNT(*) FILTER (WHERE t.{activated} = %s)",
            [IcpCode.Status.ACTIVATED.value],
        )
        (report.module_completions,) = _per_activity(
            module_ids, ModuleCompletion, "module", "completed_at", (start, end), "COUNT(*)", []
        )
    else:
        codes = IcpCode.objects.filter(event_id__in=event_ids, created_at__gte=start, created_at__lt=end).aggregate(
            issued=Count("id"), activated=Count("id", filter=Q(status=IcpCode.Status.ACTIVATED))
        )
        report.codes_issued, report.codes_activated = codes["issued"], codes["activated"]
        report.module_completions = ModuleCompletion.objects.filter(
            module_id__in=module_ids, completed_at__gte=start, completed_at__lt=end
        ).count()

    _cycles(report, specialty_ids=specialty_ids, year=year)
    report.survey_responses = _survey_responses(society, year)
    return report


def _cycles(report: SocietyReport, *, specialty_ids: list[int], year: int) -> None:
    """Cycles running on the year's last day (today in the current year), and how far along they are: one query,
    each cycle's credits summed by a subquery on the ledger's (doctor, earned_on) index."""
    day = min(date(year, 12, 31), timezone.localdate())
    own_event = Event.specialties.through.objects.filter(
        event_id=OuterRef("activity_id"), specialty_id=OuterRef(OuterRef("specialty_id"))
    ).values("event_id")
    own_module = Module.specialties.through.objects.filter(
        module_id=OuterRef("activity_id"), specialty_id=OuterRef(OuterRef("specialty_id"))
    ).values("module_id")
    earned = (
        CreditEntry.objects.filter(
            Q(activity_kind=Event.kind, activity_id__in=own_event)
            | Q(activity_kind=Module.kind, activity_id__in=own_module),
            doctor_id=OuterRef("doctor_id"),
            earned_on__gte=OuterRef("starts_on"),
            earned_on__lte=OuterRef("ends_on"),
        )
        .order_by()
        .values("doctor_id")
        .annotate(total=Sum("credits"))
        .values("total")
    )
    cycles = Cycle.objects.filter(specialty_id__in=specialty_ids, starts_on__lte=day, ends_on__gte=day).annotate(
        earned4=Coalesce(Subquery(earned, output_field=IntegerField()), Value(0)) * 4
    )
    if connection.vendor == "postgresql":
        _cycle_figures_postgresql(report, cycles)
        return
    quarters = F("rule__total_hours")
    figures = cycles.aggregate(
        running=Count("id"),
        doctors=Count("doctor_id", distinct=True),
        lt25=Count("id", filter=Q(earned4__lt=quarters)),
        b25to50=Count("id", filter=Q(earned4__gte=quarters, earned4__lt=quarters * 2)),
        b50to75=Count("id", filter=Q(earned4__gte=quarters * 2, earned4__lt=quarters * 3)),
        ge75=Count("id", filter=Q(earned4__gte=quarters * 3)),
    )
    report.cycles_running, report.doctors_with_cycles = figures["running"], figures["doctors"]
    report.progress = {
        "lt25": figures["lt25"],
        "25to50": figures["b25to50"],
        "50to75": figures["b50to75"],
        "ge75": figures["ge75"],
    }


def _cycle_figures_postgresql(report: SocietyReport, cycles: QuerySet[Any]) -> None:
    """The cycles' figures of `_cycles` in one statement whose subquery sums each cycle's credits once: aggregated
    through the ORM, the sum is written out in each of the six aggregates and PostgreSQL, flattening the
    subquery, runs it six times per cycle. `OFFSET 0` keeps the subquery whole."""
    sql, params = cycles.values("id", "doctor_id", "earned4", quarters=F("rule__total_hours")).query.sql_with_params()
    # the ORM's own SQL of the queryset, with its values passed as parameters
    aggregates = ", ".join(
        [
            "COUNT(*)",
            "COUNT(DISTINCT t.doctor_id)",
            "COUNT(*) FILTER (WHERE t.earned4 < t.quarters)",
            "COUNT(*) FILTER (WHERE t.earned4 >= t.quarters AND t.earned4 < t.quarters * 2)",
            "COUNT(*) FILTER (WHERE t.earned4 >= t.quarters * 2 AND t.earned4 < t.quarters * 3)",
            "COUNT(*) FILTER (WHERE t.earned4 >= t.quarters * 3)",
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(" ".join(["SELECT", aggregates, "FROM (", sql, "OFFSET 0) t"]), params)
        running, doctors, *buckets = cursor.fetchone()
    report.cycles_running, report.doctors_with_cycles = running, doctors
    report.progress = dict(zip(BUCKETS, buckets, strict=True))
