"""Reads about users and their roles."""

from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from .models import (
    DoctorProfile,
    Invitation,
    Membership,
    Organization,
    OrganizationApiKey,
    ReviewerAppointment,
    Specialty,
    User,
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
