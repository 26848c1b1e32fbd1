"""Reads of the review workflow, and the search the apps' catalogues share. Query counts do not grow with the rows."""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Organization, ReviewerAppointment, Specialty, User

from . import kinds
from .kinds import ActivityKind
from .models import Activity, Status, parse_public_number, search_vector


def search_activities(queryset: QuerySet[Any], q: str) -> QuerySet[Any]:
    """An activity's public number finds that activity (by its unique index); other words are looked for by
    full-text search in Russian on PostgreSQL, through the kind's GIN index of `search_vector` over its
    `search_fields` («депрессии» finds «Депрессия»), and by a case-insensitive substring match elsewhere (SQLite
    in `make run`)."""
    q = q.strip()
    if not q:
        return queryset
    if (number := parse_public_number(q)) is not None:
        return queryset.filter(public_number=number)
    fields: tuple[str, ...] = queryset.model.search_fields
    if connection.vendor == "postgresql":
        # alias(), not annotate(): the vector is matched, never selected, and must be the index's expression.
        query = SearchQuery(q, config="russian", search_type="websearch")
        found: QuerySet[Any] = queryset.alias(search=search_vector(*fields)).filter(search=query)
        return found
    # SQLite folds the case of ASCII letters only, so Cyrillic is matched as typed, lower case and capitalised.
    condition = Q()
    for field in fields:
        for variant in {q, q.lower(), q.capitalize()}:
            condition |= Q(**{f"{field}__icontains": variant})
    return queryset.filter(condition)


# The catalogue's provider filter: a name typed (or picked from the suggestions), not a list of 3,000 providers.

PROVIDER_SUGGESTIONS = 15


def _verified_providers() -> QuerySet[Organization]:
    return Organization.objects.filter(status=Organization.Status.VERIFIED)


def providers_containing(text: str, *, limit: int | None = None) -> list[tuple[int, str, str]]:
    """(id, name, short name) of the verified providers whose full or short name contains `text` in any case, by
    name: one query over the few thousand organizations. SQLite (`make run`) folds the case of ASCII letters only,
    so there the few organizations of development are matched in Python."""
    text = text.strip()
    if not text:
        return []
    rows = _verified_providers().order_by("name", "id").values_list("id", "name", "short_name")
    if connection.vendor == "postgresql":
        found = rows.filter(Q(name__icontains=text) | Q(short_name__icontains=text))
        return list(found[:limit] if limit is not None else found)
    folded = text.casefold()
    matching = [row for row in rows if folded in row[1].casefold() or folded in row[2].casefold()]
    return matching[:limit] if limit is not None else matching


def providers_named(text: str) -> list[int]:
    """The providers a typed name means: those whose full or short name is `text` (in any case), when there are
    any, so that a name picked from the suggestions is that provider alone («ГКБ № 1», not also «ГКБ № 15»);
    otherwise every provider whose name contains it («Сеченов»). None found: an empty list, which finds nothing."""
    found = providers_containing(text)
    folded = text.strip().casefold()
    exact = [pk for pk, name, short_name in found if folded in (name.casefold(), short_name.casefold())]
    return exact or [pk for pk, _name, _short_name in found]


def provider_name(pk: int) -> str | None:
    """The name of the verified provider `pk` (an id from a bookmarked link), or None when there is none."""
    name: str | None = _verified_providers().filter(pk=pk).values_list("name", flat=True).first()
    return name


def filter_by_provider(queryset: QuerySet[Any], provider: Any) -> QuerySet[Any]:
    """The catalogue's activities of `provider`: an organization (the API's `?provider=id`) or the ids a typed name
    found (the page's filter; an empty list finds nothing)."""
    providers = provider if isinstance(provider, list) else [provider]
    return queryset.filter(organization__in=providers)


def reviewer_queue(*, reviewer: User) -> list[Activity]:
    """The expert's open cases across events and modules, the nearest deadline first (three queries)."""
    cases: list[Activity] = []
    for kind in kinds.all_kinds():
        cases.extend(
            kind.model.objects.filter(reviewer=reviewer, status=Status.IN_REVIEW)
            .select_related("organization")
            .prefetch_related("specialties")
        )
    return sorted(cases, key=lambda case: (case.due_at is None, case.due_at, case.pk))


def reviewer_decided(*, reviewer: User, limit: int = 20) -> list[Activity]:
    """The expert's last decisions across events and modules, the latest first: a query per kind, each reading
    the kind's (reviewer, decided) index a page long, however many cases the expert has decided."""
    done: list[Activity] = []
    for kind in kinds.all_kinds():
        done.extend(
            kind.model.objects.filter(
                reviewer=reviewer,
                status__in=[Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED],
                decided_at__isnull=False,
            )
            .select_related("organization")
            .order_by("-decided_at", "-pk")[:limit]
        )
    return sorted(done, key=lambda case: (case.decided_at, case.pk), reverse=True)[:limit]


def organization_activities(*, organization: Organization) -> dict[str, list[Activity]]:
    """The organization's activities by kind ("event", "module"), the last changed first."""
    return {
        kind.name: list(kind.model.objects.filter(organization=organization).order_by("-updated_at"))
        for kind in kinds.all_kinds()
    }


def changes_requested(activity: Activity) -> Any:
    """The expert's request for changes the provider has still to act on (its comment, who and when), or None:
    shown at the top of the activity's page, not only in its history."""
    if activity.status != Status.CHANGES_REQUESTED:
        return None
    return activity_timeline(activity).filter(to_status=Status.CHANGES_REQUESTED).last()


def activity_timeline(activity: Activity) -> QuerySet[Any]:
    return activity.transitions.select_related("actor").order_by("created_at", "id")  # type: ignore[attr-defined, no-any-return]


# A society's experts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpertWork:
    """An expert's work in one specialty: the cases now in their review (`overdue`: past the deadline), and their
    decisions since a date with the median days from the provider's submission to the decision."""

    open_cases: int = 0
    overdue: int = 0
    decided: int = 0
    median_days: float | None = None


@dataclass(frozen=True)
class SocietyExpert:
    appointment: ReviewerAppointment
    work: ExpertWork
    # The active experts of the same specialty this one's open cases may be handed to.
    hand_over_to: list[User]


@dataclass(frozen=True)
class SocietySpecialty:
    specialty: Specialty
    experts: list[SocietyExpert]


def _specialty_links(kind: ActivityKind) -> tuple[QuerySet[Any], str]:
    """The table that ties the kind's activities to their specialties, and the name of its activity column: one
    row per activity and specialty, so that counts per specialty need no DISTINCT."""
    return kind.model.specialties.through._default_manager.all(), kind.model._meta.model_name or kind.name


def _open_cases(user_ids: list[int], specialty_ids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(expert, specialty) -> (cases in review, of which overdue), counted in the database: a query per kind."""
    now = timezone.now()
    found: dict[tuple[int, int], tuple[int, int]] = {}
    for kind in kinds.all_kinds():
        links, activity = _specialty_links(kind)
        rows = (
            links.filter(
                **{
                    f"{activity}__reviewer_id__in": user_ids,
                    f"{activity}__status": Status.IN_REVIEW,
                    "specialty_id__in": specialty_ids,
                }
            )
            .values_list(f"{activity}__reviewer_id", "specialty_id")
            .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(**{f"{activity}__due_at__lt": now})))
            .order_by()
        )
        for reviewer_id, specialty_id, open_cases, overdue in rows:
            before = found.get((reviewer_id, specialty_id), (0, 0))
            found[reviewer_id, specialty_id] = (before[0] + open_cases, before[1] + overdue)
    return found


# Over the union of the kinds' rows (each the ORM's own compiled query, its values passed as parameters).
MEDIAN_REVIEW_DAYS = (
    "SELECT reviewer_id, specialty_id, COUNT(*), "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM decided - submitted)) / 86400 "
    "FROM ({decisions}) AS decisions (reviewer_id, specialty_id, submitted, decided) "
    "GROUP BY reviewer_id, specialty_id"
)


def _decisions(
    user_ids: list[int], specialty_ids: list[int], since: datetime
) -> dict[tuple[int, int], tuple[int, float | None]]:
    """(expert, specialty) -> (decisions since `since`, median days from submission to decision), over events and
    modules together. An activity's row keeps its last submission and the decision on it (a resubmission starts
    the clock again), and `reviewer` stays the expert who decided.

    On PostgreSQL one query takes the median (percentile_cont) over both kinds' rows at once; SQLite has no
    percentile, so in development the few rows come back and Python takes the same interpolated median."""
    parts = []
    for kind in kinds.all_kinds():
        links, activity = _specialty_links(kind)
        parts.append(
            links.filter(
                **{
                    f"{activity}__reviewer_id__in": user_ids,
                    "specialty_id__in": specialty_ids,
                    f"{activity}__decided_at__gte": since,
                    f"{activity}__submitted_at__isnull": False,
                }
            )
            .values_list(
                f"{activity}__reviewer_id", "specialty_id", f"{activity}__submitted_at", f"{activity}__decided_at"
            )
            .order_by()
        )
    if connection.vendor == "postgresql":
        queries: list[str] = []
        params: list[Any] = []
        for part in parts:
            sql, part_params = part.query.sql_with_params()
            queries.append(f"({sql})")
            params.extend(part_params)
        sql = MEDIAN_REVIEW_DAYS.format(decisions=" UNION ALL ".join(queries))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return {(row[0], row[1]): (row[2], float(row[3])) for row in cursor.fetchall()}
    days: dict[tuple[int, int], list[float]] = {}
    for part in parts:
        for reviewer_id, specialty_id, submitted, decided in part:
            days.setdefault((reviewer_id, specialty_id), []).append((decided - submitted).total_seconds() / 86400)
    return {key: (len(values), statistics.median(values)) for key, values in days.items()}


REVIEW_TIMES_DAYS = 365  # "the last 12 months" of the experts page


def society_experts(*, society: Organization) -> list[SocietySpecialty]:
    """The experts of each specialty the society is responsible for, whoever appointed them (the society, or the
    portal administrators), active ones first: what each has in review now and how fast they decided over the
    last 12 months. Five or six queries, whatever the number of experts and cases."""
    specialties = list(society.specialties.order_by("code"))
    specialty_ids = [s.pk for s in specialties]
    appointments = list(
        ReviewerAppointment.objects.filter(specialty_id__in=specialty_ids)
        .select_related("user", "specialty", "organization")
        .order_by("specialty__code", "-is_active", "user__last_name", "user__first_name", "user__email")
    )
    user_ids = sorted({a.user_id for a in appointments})
    open_cases = _open_cases(user_ids, specialty_ids) if user_ids else {}
    since = timezone.now() - timedelta(days=REVIEW_TIMES_DAYS)
    decisions = _decisions(user_ids, specialty_ids, since) if user_ids else {}
    active: dict[int, list[User]] = {}
    for a in appointments:
        if a.is_active and a.user.is_active:
            active.setdefault(a.specialty_id, []).append(a.user)
    by_specialty: dict[int, list[SocietyExpert]] = {pk: [] for pk in specialty_ids}
    for a in appointments:
        key = (a.user_id, a.specialty_id)
        in_review, overdue = open_cases.get(key, (0, 0))
        decided, median = decisions.get(key, (0, None))
        by_specialty[a.specialty_id].append(
            SocietyExpert(
                appointment=a,
                work=ExpertWork(open_cases=in_review, overdue=overdue, decided=decided, median_days=median),
                hand_over_to=[u for u in active.get(a.specialty_id, []) if u.pk != a.user_id],
            )
        )
    return [SocietySpecialty(specialty=s, experts=by_specialty[s.pk]) for s in specialties]
