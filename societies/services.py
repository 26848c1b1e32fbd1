"""Writes about announcements and the digest. Each runs in one transaction and leaves an audit row.

Who publishes: the staff (any member) of a verified organization of kind society, for the specialties the society
is responsible for, and portal administrators, who keep every power. To anyone else a society's announcements
are not there (404)."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import DoctorProfile, Organization, Specialty, User
from accounts.selectors import organization_membership
from accounts.services import require_verified
from nmo_portal.calendar import within_register_years
from nmo_portal.errors import NotFound, PortalError

from .models import Announcement, DigestSubscription


def is_society_staff(*, society: Organization, user: User) -> bool:
    """A portal administrator, or a member of this organization of kind society (verified or not)."""
    if society.kind != Organization.Kind.SOCIETY or not user.is_authenticated:
        return False
    return user.is_staff or organization_membership(organization=society, user=user) is not None


def require_society_staff(*, society: Organization, user: User) -> None:
    """A society's announcements are its staff's and the portal administrators' to change: anyone else is told
    nothing exists (404). A society acts only once verified."""
    if not is_society_staff(society=society, user=user):
        raise NotFound(_("No such society."))
    require_verified(society)


def _bounded_text(*, title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if "\x00" in title or "\x00" in body:
        raise PortalError(_("The text holds a character that cannot be saved."), code="null_characters_not_allowed")
    if not title:
        raise PortalError(_("Give the announcement a title."), code="title_required")
    if len(title) > Announcement.TITLE_MAX:
        raise PortalError(
            ngettext(
                "The title is longer than %(max)d character.",
                "The title is longer than %(max)d characters.",
                Announcement.TITLE_MAX,
            )
            % {"max": Announcement.TITLE_MAX},
            code="title_too_long",
        )
    if not body:
        raise PortalError(_("Write the text of the announcement."), code="body_required")
    if len(body) > Announcement.BODY_MAX:
        raise PortalError(
            ngettext(
                "The text is longer than %(max)d character.",
                "The text is longer than %(max)d characters.",
                Announcement.BODY_MAX,
            )
            % {"max": Announcement.BODY_MAX},
            code="body_too_long",
        )
    return title, body


def _society_specialties(*, society: Organization, specialties: Iterable[Specialty]) -> list[Specialty]:
    chosen = list(dict.fromkeys(specialties))
    if not chosen:
        raise PortalError(_("Choose at least one specialty."), code="specialties_required")
    own = set(society.specialties.values_list("pk", flat=True))
    outside = [specialty for specialty in chosen if specialty.pk not in own]
    if outside:
        raise PortalError(
            _("The society is not responsible for %(specialties)s.")
            % {"specialties": ", ".join(f"{s.code} {s.display_name}" for s in outside)},
            code="specialty_not_in_society",
        )
    return chosen


def _publication_moment(published_at: datetime | None) -> datetime:
    moment = published_at or timezone.now()
    if not within_register_years(moment.date()):
        raise PortalError(_("Choose a publication time between 2000 and 2099."), code="published_at_out_of_range")
    return moment


@transaction.atomic
def announcement_publish(
    *,
    society: Organization,
    actor: User,
    title: str,
    body: str,
    specialties: Iterable[Specialty],
    published_at: datetime | None = None,
    pinned: bool = False,
) -> Announcement:
    """Publish news of `society` for some of its specialties: now, or at `published_at` (later schedules it)."""
    require_society_staff(society=society, user=actor)
    title, body = _bounded_text(title=title, body=body)
    chosen = _society_specialties(society=society, specialties=specialties)
    announcement = Announcement.objects.create(
        society=society,
        title=title,
        body=body,
        published_at=_publication_moment(published_at),
        pinned=pinned,
        created_by=actor,
    )
    announcement.specialties.set(chosen)
    audit_log(
        actor=actor,
        action="announcement.publish",
        obj=announcement,
        society=society.pk,
        specialties=sorted(s.code for s in chosen),
        published_at=announcement.published_at.isoformat(),
        pinned=pinned,
    )
    return announcement


@transaction.atomic
def announcement_edit(
    *,
    announcement: Announcement,
    actor: User,
    title: str,
    body: str,
    specialties: Iterable[Specialty],
    published_at: datetime | None,
    pinned: bool,
) -> Announcement:
    """Change an announcement that has not been withdrawn; the society's staff or portal administrators only."""
    announcement = Announcement.objects.select_for_update().select_related("society").get(pk=announcement.pk)
    require_society_staff(society=announcement.society, user=actor)
    if announcement.is_withdrawn:
        raise PortalError(_("The announcement has been withdrawn."), code="announcement_withdrawn", status=409)
    title, body = _bounded_text(title=title, body=body)
    chosen = _society_specialties(society=announcement.society, specialties=specialties)
    before = {
        "title": announcement.title,
        "body": announcement.body,
        "published_at": announcement.published_at,
        "pinned": announcement.pinned,
        "specialties": sorted(announcement.specialties.values_list("code", flat=True)),
    }
    announcement.title, announcement.body, announcement.pinned = title, body, pinned
    if published_at is not None and published_at != announcement.published_at.replace(second=0, microsecond=0):
        # a time sent back as the form shows it, to the minute, is the same moment, not a new one
        announcement.published_at = _publication_moment(published_at)
    announcement.save()
    announcement.specialties.set(chosen)
    after = {
        "title": title,
        "body": body,
        "published_at": announcement.published_at,
        "pinned": pinned,
        "specialties": sorted(s.code for s in chosen),
    }
    audit_log(
        actor=actor,
        action="announcement.edit",
        obj=announcement,
        changed=[name for name in before if before[name] != after[name]],
        specialties=after["specialties"],
    )
    return announcement


@transaction.atomic
def announcement_withdraw(*, announcement: Announcement, actor: User) -> Announcement:
    """Take an announcement down: it is shown nowhere but to its society, and goes into no digest."""
    announcement = Announcement.objects.select_for_update().select_related("society").get(pk=announcement.pk)
    require_society_staff(society=announcement.society, user=actor)
    if announcement.is_withdrawn:
        raise PortalError(_("The announcement has been withdrawn."), code="announcement_withdrawn", status=409)
    announcement.withdrawn_at = timezone.now()
    announcement.save(update_fields=["withdrawn_at", "updated_at"])
    audit_log(actor=actor, action="announcement.withdraw", obj=announcement)
    return announcement


@transaction.atomic
def digest_subscribe(*, doctor: User) -> DigestSubscription:
    """The doctor opts in to the weekly digest of the announcements of their specialties."""
    if not DoctorProfile.objects.filter(user=doctor).exists():
        raise PortalError(
            _("Fill in your doctor's profile and specialties first: the digest follows them."),
            code="doctor_profile_missing",
        )
    subscription, created = DigestSubscription.objects.get_or_create(doctor=doctor)
    if created:
        audit_log(actor=doctor, action="announcement_digest.subscribe", obj=subscription)
    return subscription


@transaction.atomic
def digest_unsubscribe(*, doctor: User, actor: User | None, via: str) -> bool:
    """The doctor opts out (`via` the page, the e-mail's link or the admin); True when they were subscribed."""
    deleted, _rows = DigestSubscription.objects.filter(doctor=doctor).delete()
    if deleted:
        audit_log(actor=actor, action="announcement_digest.unsubscribe", obj=doctor, via=via)
    return bool(deleted)
