"""The weekly e-mail digest of announcements, sent by beat on Mondays to the doctors who opted in.

Each digest holds the announcements of the doctor's specialties published in the week before (Monday to Monday
in the register's zone), not withdrawn since; a doctor with none gets nothing. It goes out at most once per
doctor and week: its DigestSent row is inserted first, in the transaction that sends, and the mail goes out only
when this run inserted it (two runs at once insert one row; a failed send rolls its row back, so a later run that
week tries again).

The mail is plain text, in the doctor's language, and carries a one-click unsubscribe link that works without
signing in and only for that doctor: a value signed with the secret key and a salt of its own (a tampered link
changes nothing). It is also the List-Unsubscribe header, with List-Unsubscribe-Post (RFC 8058) so that a mail
program can unsubscribe with one POST.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from celery import shared_task
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from nmo_portal.calendar import make_local, today
from nmo_portal.mail import templated_message

from .models import Announcement, DigestSent
from .text import excerpt

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)
UNSUBSCRIBE_SALT = "societies.digest.unsubscribe"
# A signed doctor id is some 40 characters; anything much longer is not one of ours and is not even unsigned.
TOKEN_MAX_LENGTH = 120
TEMPLATE = "societies/email/digest"


def week_of(day: date) -> date:
    """The Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def week_before(week_start: date) -> tuple[datetime, datetime]:
    """The moments the digest sent in the week of `week_start` covers: the whole week before, in the register's
    zone, so that consecutive digests neither miss nor repeat an announcement."""
    end = make_local(datetime.combine(week_start, time.min))
    return make_local(datetime.combine(week_start - WEEK, time.min)), end


def unsubscribe_token(doctor_id: int) -> str:
    return signing.dumps(doctor_id, salt=UNSUBSCRIBE_SALT)


def doctor_id_of(token: str) -> int | None:
    """The doctor an unsubscribe link was made for, or None for a link that is not one (tampered, cut short)."""
    if len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unsubscribe_url(doctor_id: int) -> str:
    return f"{settings.SITE_URL}{reverse('societies:digest_unsubscribe', args=[unsubscribe_token(doctor_id)])}"


@dataclass(frozen=True)
class Digest:
    doctor: User
    announcements: list[Announcement]


def due(week_start: date) -> list[Digest]:
    """The digests of the week of `week_start` not sent yet: each subscribed doctor with an address and at least
    one announcement of their specialties from the week before. Four queries, whatever the number of doctors."""
    start, end = week_before(week_start)
    published = list(
        Announcement.objects.filter(withdrawn_at__isnull=True, published_at__gte=start, published_at__lt=end)
        .for_list()
        .pinned_first()
    )
    if not published:
        return []
    named = {specialty.pk for announcement in published for specialty in announcement.specialties.all()}
    sent = DigestSent.objects.filter(doctor=OuterRef("pk"), week_start=week_start)
    doctors = (
        User.objects.filter(announcement_digest__isnull=False, is_active=True, doctor_profile__specialties__in=named)
        .exclude(email="")
        .exclude(Exists(sent))
        .distinct()
        .prefetch_related("doctor_profile__specialties")
        .order_by("pk")
    )
    digests = []
    for doctor in doctors:
        theirs = {specialty.pk for specialty in doctor.doctor_profile.specialties.all()}
        chosen = [a for a in published if theirs & {specialty.pk for specialty in a.specialties.all()}]
        if chosen:
            digests.append(Digest(doctor=doctor, announcements=chosen))
    return digests


def digest_send(*, digest: Digest, week_start: date) -> bool:
    """Send one doctor's digest of the week unless it was sent: its row first, the mail only if this call
    inserted the row, both in one transaction. True when this call sent it."""
    doctor = digest.doctor
    link = unsubscribe_url(doctor.pk)
    with timezone.override(doctor.timezone):
        context = {
            "doctor": doctor,
            "items": [
                {
                    "title": announcement.title,
                    "society": str(announcement.society),
                    "published_at": timezone.localtime(announcement.published_at),
                    "excerpt": excerpt(announcement.body),
                    "url": f"{settings.SITE_URL}{reverse('societies:announcement', args=[announcement.pk])}",
                }
                for announcement in digest.announcements
            ],
            "unsubscribe_url": link,
            "settings_url": f"{settings.SITE_URL}{reverse('societies:digest')}",
        }
        message = templated_message(to=[doctor.email], template=TEMPLATE, context=context, language=doctor.language)
    message.extra_headers.update(
        {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    )
    with transaction.atomic():
        _row, created = DigestSent.objects.get_or_create(
            doctor=doctor, week_start=week_start, defaults={"announcements": len(digest.announcements)}
        )
        if not created:
            return False
        message.send()
    return True


def digests_send(day: date) -> int:
    """Send the digests due in the week of `day`; returns how many went out. One that fails is logged and does
    not stop the others."""
    week_start = week_of(day)
    sent = 0
    for digest in due(week_start):
        try:
            sent += digest_send(digest=digest, week_start=week_start)
        except Exception:
            logger.exception("Could not send the announcement digest of %s to doctor %s", week_start, digest.doctor.pk)
    return sent


@shared_task
def send_announcement_digests(day: str | None = None) -> int:
    """Periodic (beat, weekly): send this week's digests of announcements (or those of the week of `day`)."""
    return digests_send(date.fromisoformat(day) if day else today())
