"""Reads about users and their roles."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from nmo_portal.calendar import add_months, today

from .models import (
    DoctorProfile,
    Invitation,
    Membership,
    Organization,
    OrganizationApiKey,
    ReviewerAppointment,
    Specialty,
    User,
    WorkRecord,
)


@dataclass(frozen=True)
class Roles:
    """What a user may do, worked out from what they have. A person may hold several roles at once."""

    is_authenticated: bool = False
    is_doctor: bool = False
    is_provider: bool = False
    is_reviewer: bool = False
    is_staff: bool = False
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    admin_organization_ids: frozenset[int] = field(default_factory=frozenset)


def user_roles(user: User | AnonymousUser) -> Roles:
    """Two queries at most, whatever the user holds."""
    if not user.is_authenticated:
        return Roles()
    memberships = list(Membership.objects.filter(user=user).values_list("organization_id", "role"))
    flags = (
        User.objects.filter(pk=user.pk)
        .annotate(
            doctor=Exists(DoctorProfile.objects.filter(user=OuterRef("pk"), snils__isnull=False)),
            reviewer=Exists(ReviewerAppointment.objects.filter(user=OuterRef("pk"), is_active=True)),
        )
        .values_list("doctor", "reviewer")
        .first()
    )
    is_doctor, is_reviewer = (bool(flags[0]), bool(flags[1])) if flags else (False, False)
    return Roles(
        is_authenticated=True,
        is_doctor=is_doctor,
        is_provider=bool(memberships),
        is_reviewer=is_reviewer,
        is_staff=user.is_staff,
        organization_ids=frozenset(org_id for org_id, _ in memberships),
        admin_organization_ids=frozenset(org_id for org_id, role in memberships if role == Membership.Role.ADMIN),
    )


def doctor_profile_get(*, user: User) -> DoctorProfile | None:
    return DoctorProfile.objects.filter(user=user).prefetch_related("specialties").first()


def organizations_of_user(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_membership(*, organization: Organization | int, user: User | AnonymousUser) -> Membership | None:
    """The user's membership of the organization (given as itself or its id), or None."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(organization=organization, user=user).first()


def is_org_member(*, user: User | AnonymousUser, organization: Organization, verified: bool = False) -> bool:
    """Whether the user is a member of the organization; with `verified`, also whether it may act yet (an
    organization acts on the portal only once administrators have verified it)."""
    if verified and not organization.is_verified:
        return False
    return organization_membership(organization=organization, user=user) is not None


def organization_detail(*, organization_id: int) -> Organization:
    members = Membership.objects.select_related("user").order_by("-role", "user__last_name", "user__email")
    invitations = Invitation.objects.select_related("invited_by").order_by("-created_at")
    return Organization.objects.prefetch_related(
        Prefetch("memberships", queryset=members), Prefetch("invitations", queryset=invitations)
    ).get(pk=organization_id)


def organization_api_keys(*, organization: Organization) -> QuerySet[OrganizationApiKey]:
    """Working keys first, newest first; revoked ones stay listed so that an old integration can be traced."""
    return (
        OrganizationApiKey.objects.filter(organization=organization)
        .select_related("created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
    )


def reviewer_appointments(*, user: User) -> QuerySet[ReviewerAppointment]:
    return ReviewerAppointment.objects.filter(user=user, is_active=True).select_related("specialty")


def active_specialties() -> QuerySet[Specialty]:
    return Specialty.objects.filter(is_active=True).order_by("code")


@dataclass(frozen=True)
class DoctorIdentity:
    email_confirmed: bool
    snils: str | None

    @property
    def problems(self) -> list[str]:
        """What the doctor must still do before activating codes."""
        problems = []
        if not self.email_confirmed:
            problems.append(_("confirm your e-mail address"))
        if not self.snils:
            problems.append(_("enter your СНИЛС in the profile"))
        return problems


def doctor_identity(user: User) -> DoctorIdentity:
    """Whether the account has a confirmed e-mail, and the СНИЛС of its profile: one query on the hot path."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            email_confirmed=Exists(EmailAddress.objects.filter(user=OuterRef("pk"), verified=True)),
            profile_snils=Subquery(DoctorProfile.objects.filter(user=OuterRef("pk")).values("snils")[:1]),
        )
        .values_list("email_confirmed", "profile_snils")
        .first()
    )
    if row is None:
        return DoctorIdentity(email_confirmed=False, snils=None)
    return DoctorIdentity(email_confirmed=bool(row[0]), snils=row[1] or None)


def profile_problems(user: User) -> list[str]:
    return doctor_identity(user).problems


# Years of practice ------------------------------------------------------------------------------------------


def work_records(*, doctor: User) -> QuerySet[WorkRecord]:
    """The doctor's work history, the current places first, then the latest."""
    return (
        WorkRecord.objects.filter(doctor=doctor)
        .select_related("specialty")
        .order_by(F("ended_on").desc(nulls_first=True), "-started_on", "-id")
    )


@dataclass(frozen=True)
class Practice:
    """Practice in a specialty: `total_days` worked, and the same as whole years, months and days by the calendar
    (see practice_years)."""

    total_days: int = 0
    years: int = 0
    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        """«6 лет 2 мес.»: years and months; days only while there is not a month yet."""
        parts = []
        if self.years:
            parts.append(ngettext("%(count)d year", "%(count)d years", self.years) % {"count": self.years})
        if self.months:
            parts.append(ngettext("%(count)d month", "%(count)d months", self.months) % {"count": self.months})
        if not parts:
            parts.append(ngettext("%(count)d day", "%(count)d days", self.days) % {"count": self.days})
        return " ".join(parts)


def _worked_periods(records: Iterable[WorkRecord], until: date) -> list[tuple[date, date]]:
    """The records' periods as (first day, last day), both worked, cut before `until` and merged where they
    overlap or touch."""
    last_day = until - timedelta(days=1)
    periods = sorted(
        (record.started_on, min(record.ended_on or last_day, last_day))
        for record in records
        if record.started_on <= last_day
    )
    merged: list[tuple[date, date]] = []
    for start, end in periods:
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def practice_of(records: Iterable[WorkRecord], *, until: date | None = None) -> Practice:
    """practice_years over records already read (a page that lists them asks no more queries); the caller picks
    the records of one specialty (and region)."""
    periods = _worked_periods(records, until or today())
    total = sum((end - start).days + 1 for start, end in periods)
    if not periods:
        return Practice()
    first = periods[0][0]

    def reached(months: int) -> bool:
        return (add_months(first, months) - first).days <= total

    years = total // 366  # never more whole years than that: every calendar year has 365 or 366 days
    while reached(12 * (years + 1)):
        years += 1
    months = 0
    while months < 11 and reached(12 * years + months + 1):
        months += 1
    days = total - (add_months(first, 12 * years + months) - first).days
    return Practice(total_days=total, years=years, months=months, days=days)


def _specialty_records(doctor: User, specialty: Specialty, region: str | None) -> QuerySet[WorkRecord]:
    records = WorkRecord.objects.filter(doctor=doctor, specialty=specialty)
    if region is not None:
        records = records.filter(region=region)
    return records.only("started_on", "ended_on")


def practice_days(doctor: User, specialty: Specialty, *, until: date | None = None, region: str | None = None) -> int:
    """The days of practice in `specialty` by the work history, as of the day `until` (today by default),
    optionally only at employers in `region` (a code of accounts.work.REGIONS: MOSCOW for "in Moscow").

    The convention, tested in tests/accounts/test_practice.py:
    - a closed record covers its days from "from" to "to", both included: "to" is the last day worked;
    - practice is measured on the morning of `until`: the days before it count, `until` itself does not (it is
      not worked yet). An open record therefore runs up to the day before `until`, a record that ends later is
      cut there, and a record that starts on `until` or later does not count;
    - overlapping periods count once (the union of the periods), and so does the day two periods share.

    So work from 1 March 2021 onwards gives, on 28 February 2026, 1825 days (4 years and 364 days), and on
    1 March 2026 1826 days: the full five years (practice_years). A record from 1 March 2021 to 28 February
    2026 holds the same full five years."""
    return practice_of(_specialty_records(doctor, specialty, region), until=until).total_days


def practice_years(
    doctor: User, specialty: Specialty, *, until: date | None = None, region: str | None = None
) -> Practice:
    """practice_days as whole years, months and days, by the calendar, not by dividing by 365.

    N years are reached when the days of practice reach the days from its first day to the same date N years
    later (add_months: the Civil Code's art. 192, so the anniversary of 29 February is 28 February): exactly the
    calendar for an unbroken practice; with breaks, as if the days had been worked without them from the first
    day. Months are counted the same way after the years, and what is left is days. Work from 1 March 2021 is
    4 years, 11 months and 27 days on 28 February 2026 (1825 days) and 5 years on 1 March 2026 (1826 days);
    work from 29 February 2020 is a year on 28 February 2021."""
    return practice_of(_specialty_records(doctor, specialty, region), until=until)


@dataclass(frozen=True)
class SpecialtyPractice:
    specialty: Specialty
    practice: Practice


def practice_by_specialty(records: Iterable[WorkRecord], *, until: date | None = None) -> list[SpecialtyPractice]:
    """Practice in each specialty of the records (read with their specialty), by specialty code."""
    by_specialty: dict[int, list[WorkRecord]] = {}
    specialties: dict[int, Specialty] = {}
    for record in records:
        by_specialty.setdefault(record.specialty_id, []).append(record)
        specialties[record.specialty_id] = record.specialty
    return [
        SpecialtyPractice(specialty=specialties[pk], practice=practice_of(group, until=until))
        for pk, group in sorted(by_specialty.items(), key=lambda item: specialties[item[0]].code)
    ]
