"""Reads for the pages, the feed and the API: announcements, and the needs surveys (who sees which, who reads
the results)."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Specialty, User
from events.models import Event
from modules.models import Module
from nmo_portal.errors import NotFound
from review.models import Status

from .models import (
    Announcement,
    AnnouncementQuerySet,
    AnswerSet,
    DigestSubscription,
    Survey,
    SurveyInvitation,
    SurveyParticipation,
)
from .services import is_society_staff


def doctor_specialties(user: User | AnonymousUser) -> list[Specialty]:
    if not user.is_authenticated:
        return []
    return list(Specialty.objects.filter(doctors__user_id=user.pk).order_by("code"))


@dataclass(frozen=True)
class Reader:
    """Who reads the announcements block: the specialties of their profile, and whether they get the digest."""

    specialty_ids: frozenset[int] = frozenset()
    subscribed: bool = False


def reader(user: User | AnonymousUser) -> Reader:
    """One query, whatever the person holds (none for a visitor)."""
    if not user.is_authenticated:
        return Reader()
    rows = (
        User.objects.filter(pk=user.pk)
        .annotate(subscribed=Exists(DigestSubscription.objects.filter(doctor=OuterRef("pk"))))
        .values_list("subscribed", "doctor_profile__specialties")
    )
    found = list(rows)
    return Reader(
        specialty_ids=frozenset(specialty for _subscribed, specialty in found if specialty is not None),
        subscribed=any(subscribed for subscribed, _specialty in found),
    )


def announcements_for(*, user: User | AnonymousUser, limit: int) -> tuple[list[Announcement], Reader]:
    """What the home page and the plan show: the announcements of the doctor's specialties, pinned first, then
    newest; to anyone without specialties (a visitor, a provider), the newest of all. Two queries, a third for the
    specialties of what is found."""
    who = reader(user)
    published = Announcement.objects.published().for_list()
    if who.specialty_ids:
        found = published.of_specialties(Specialty.objects.filter(pk__in=who.specialty_ids)).pinned_first()
    else:
        found = published.order_by("-published_at", "-pk")
    return list(found[:limit]), who


def public_announcements(*, specialty: Specialty | None = None) -> AnnouncementQuerySet:
    """Published announcements, of one specialty if given, pinned first, then newest."""
    found = Announcement.objects.published()
    if specialty is not None:
        found = found.of_specialties(Specialty.objects.filter(pk=specialty.pk))
    return found.for_list().pinned_first()


def society_announcements(*, society: Organization) -> QuerySet[Announcement]:
    """Every announcement of the society, scheduled and withdrawn ones too, the latest publication first."""
    return (
        Announcement.objects.filter(society=society)
        .prefetch_related("specialties")
        .select_related("created_by")
        .order_by("-published_at", "-pk")
    )


def announcement_for_reader(*, pk: int, user: User | AnonymousUser) -> Announcement | None:
    """An announcement anyone may read once published; scheduled or withdrawn, only its society's staff and
    portal administrators see it."""
    announcement = Announcement.objects.for_list().filter(pk=pk).first()
    if announcement is None:
        return None
    if announcement.is_published:
        return announcement
    if isinstance(user, User) and is_society_staff(society=announcement.society, user=user):
        return announcement
    return None


def is_subscribed(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and DigestSubscription.objects.filter(doctor_id=user.pk).exists()


# --- needs surveys ------------------------------------------------------------------------------------------------

# Activities that make an organization a provider of a survey's specialties (who may read published results).
PROVIDING = (Status.SUBMITTED, Status.IN_REVIEW, Status.APPROVED)


def surveys_open_to(doctor: User | AnonymousUser) -> list[Survey]:
    """The surveys open today for any of the doctor's specialties, each with `answered`, the last day first."""
    if not isinstance(doctor, User):
        return []
    day = timezone.localdate()
    found = (
        Survey.objects.filter(
            status=Survey.Status.OPEN,
            opens_on__lte=day,
            closes_on__gte=day,
            specialties__in=Specialty.objects.filter(doctors__user_id=doctor.pk).values("pk"),
        )
        .annotate(answered=Exists(SurveyParticipation.objects.filter(survey=OuterRef("pk"), doctor=doctor)))
        .select_related("society")
        .distinct()
        .order_by("closes_on", "pk")
    )
    return list(found)


def survey_for_doctor(*, pk: int, doctor: User) -> Survey | None:
    """A survey open today for one of the doctor's specialties, with `answered`; None otherwise."""
    return next((survey for survey in surveys_open_to(doctor) if survey.pk == pk), None)


def society_surveys(*, society: Organization) -> QuerySet[Survey]:
    return (
        Survey.objects.filter(society=society)
        .prefetch_related("specialties")
        .annotate(responses=Count("answer_sets", distinct=True))
        .order_by("-opens_on", "-pk")
    )


def is_provider_of(*, survey: Survey, user: User) -> bool:
    """A member of a verified organization with submitted or approved events or modules in one of the survey's
    specialties."""
    organizations = Membership.objects.filter(user=user, organization__status=Organization.Status.VERIFIED).values(
        "organization_id"
    )
    specialties = survey.specialties.values("pk")
    return (
        Event.objects.filter(organization__in=organizations, status__in=PROVIDING, specialties__in=specialties).exists()
        or Module.objects.filter(
            organization__in=organizations, status__in=PROVIDING, specialties__in=specialties
        ).exists()
    )


def can_read_results(*, survey: Survey, user: User | AnonymousUser) -> bool:
    if not isinstance(user, User) or survey.is_draft:
        return False
    if is_society_staff(society=survey.society, user=user):
        return True
    return survey.results_published and is_provider_of(survey=survey, user=user)


def results_survey(*, pk: int, user: User | AnonymousUser) -> Survey:
    """The survey whose results `user` may read; 404 otherwise (another society's staff, a provider before
    publication or of other specialties, anyone else)."""
    survey = Survey.objects.select_related("society").filter(pk=pk).first()
    if survey is None or not can_read_results(survey=survey, user=user):
        raise NotFound(_("No such survey."))
    return survey


def survey_staff_counts(survey: Survey) -> dict[str, int]:
    return {
        "responses": AnswerSet.objects.filter(survey=survey).count(),
        "invited": SurveyInvitation.objects.filter(survey=survey).count(),
    }
