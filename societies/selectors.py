"""Reads of announcements for the pages, the feed and the API."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Organization, Specialty, User

from .models import Announcement, AnnouncementQuerySet, DigestSubscription
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
