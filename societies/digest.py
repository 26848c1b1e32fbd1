"""The weekly e-mail digest of announcements, sent by beat on Mondays to the doctors who opted in.

Each digest holds the announcements of the doctor's specialties published in the week before (Monday to Monday
in the register's zone), not withdrawn since; a doctor with none gets nothing. It goes out at most once per
doctor and week: its DigestSent row is inserted first, in the transaction that sends, and the mail goes out only
when this run inserted it (two runs at once insert one row; a failed send takes its row back, so a later run that
week tries again).

The work does not grow in queries with the doctors: a run reads the week's announcements once, the doctors a
batch at a time by their ids, inserts a batch's rows in one statement and sends its mails over one connection. A
run lasts about RUN_SECONDS and queues its continuation from the last doctor it reached.

The mail is plain text, in the doctor's language, and carries a one-click unsubscribe link that works without
signing in and only for that doctor: a value signed with the secret key and a salt of its own (a tampered link
changes nothing). It is also the List-Unsubscribe header, with List-Unsubscribe-Post (RFC 8058) so that a mail
program can unsubscribe with one POST.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic

from celery import current_app, shared_task
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import DoctorProfile, User
from nmo_portal.calendar import make_local, today
from nmo_portal.mail import templated_message
from nmo_portal.once import insert_once

from .models import Announcement, DigestSent, DigestSubscription
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


# A run sends the digests of BATCH doctors per transaction, and starts no new batch after RUN_SECONDS; the task
# then queues its continuation from the last doctor it reached, so a week's digests for thousands of doctors go in
# runs of under a second each. Writing a digest costs some 5-10 ms (the templates, then the MIME message with its
# encoded headers), so a batch takes a quarter of a second or so.
BATCH = 25
RUN_SECONDS = 0.5


def _published(week_start: date) -> list[Announcement]:
    start, end = week_before(week_start)
    return list(
        Announcement.objects.filter(withdrawn_at__isnull=True, published_at__gte=start, published_at__lt=end)
        .for_list()
        .pinned_first()
    )


def due(week_start: date, *, after: int = 0, limit: int | None = None) -> list[Digest]:
    """The digests of the week of `week_start` not sent yet: each subscribed doctor with an address and at least
    one announcement of their specialties from the week before, in the order of the doctors' ids from after
    `after`, at most `limit` of them. Four queries, whatever the number of doctors."""
    return _due(_published(week_start), week_start, after=after, limit=limit)


def _due(published: list[Announcement], week_start: date, *, after: int, limit: int | None) -> list[Digest]:
    if not published:
        return []
    named = {specialty.pk for announcement in published for specialty in announcement.specialties.all()}
    sent = DigestSent.objects.filter(doctor=OuterRef("doctor_id"), week_start=week_start)
    of_theirs = DoctorProfile.specialties.through.objects.filter(
        doctorprofile__user=OuterRef("doctor_id"), specialty_id__in=named
    )
    # The subscriptions lead, in the order of their doctor's index from `after` on: a batch reads its own rows
    # and stops (a few thousand subscriptions, where the users are hundreds of thousands).
    subscriptions = (
        DigestSubscription.objects.filter(doctor_id__gt=after, doctor__is_active=True)
        .exclude(doctor__email="")
        .filter(Exists(of_theirs))
        .exclude(Exists(sent))
        .select_related("doctor")
        .prefetch_related("doctor__doctor_profile__specialties")
        .order_by("doctor_id")
    )
    doctors = [subscription.doctor for subscription in (subscriptions[:limit] if limit is not None else subscriptions)]
    digests = []
    for doctor in doctors:
        theirs = {specialty.pk for specialty in doctor.doctor_profile.specialties.all()}
        chosen = [a for a in published if theirs & {specialty.pk for specialty in a.specialties.all()}]
        if chosen:
            digests.append(Digest(doctor=doctor, announcements=chosen))
    return digests


@dataclass(frozen=True)
class _Item:
    """What a digest says of one announcement, the same for every doctor: worked out once per run."""

    title: str
    society: str
    published_at: datetime
    excerpt: str
    url: str


def _items(published: list[Announcement]) -> dict[int, _Item]:
    return {
        announcement.pk: _Item(
            title=announcement.title,
            society=str(announcement.society),
            published_at=announcement.published_at,
            excerpt=excerpt(announcement.body),
            url=f"{settings.SITE_URL}{reverse('societies:announcement', args=[announcement.pk])}",
        )
        for announcement in published
    }


def _message(digest: Digest, items: dict[int, _Item]) -> EmailMessage:
    doctor = digest.doctor
    link = unsubscribe_url(doctor.pk)
    with timezone.override(doctor.timezone):
        context = {
            "doctor": doctor,
            "items": [
                {
                    "title": item.title,
                    "society": item.society,
                    "published_at": timezone.localtime(item.published_at),
                    "excerpt": item.excerpt,
                    "url": item.url,
                }
                for item in (items[announcement.pk] for announcement in digest.announcements)
            ],
            "unsubscribe_url": link,
            "settings_url": f"{settings.SITE_URL}{reverse('societies:digest')}",
        }
        message = templated_message(to=[doctor.email], template=TEMPLATE, context=context, language=doctor.language)
    message.extra_headers.update(
        {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    )
    return message


def _send_batch(digests: list[Digest], items: dict[int, _Item], week_start: date) -> int:
    """Send the digests of one batch that were not sent: their rows inserted first in one statement, the mail of
    each doctor whose row this call inserted over one connection of the mail backend, and the rows of the mails
    that failed deleted again, all in one transaction (a failed mail leaves no row; the next run sends it)."""
    messages: dict[int, EmailMessage] = {}
    for digest in digests:
        try:
            messages[digest.doctor.pk] = _message(digest, items)
        except Exception:
            logger.exception("Could not write the announcement digest of %s to doctor %s", week_start, digest.doctor.pk)
    ready = [digest for digest in digests if digest.doctor.pk in messages]
    if not ready:
        return 0
    failed = []
    with transaction.atomic():
        now = timezone.now()
        inserted = {
            doctor_id
            for doctor_id, _week in insert_once(
                DigestSent,
                columns=["doctor_id", "week_start", "announcements", "sent_at"],
                rows=[(digest.doctor.pk, week_start, len(digest.announcements), now) for digest in ready],
                unique=["doctor_id", "week_start"],
            )
        }
        with get_connection() as mail:
            for doctor_id in sorted(inserted):
                message = messages[doctor_id]
                message.connection = mail
                try:
                    message.send()
                except Exception:
                    logger.exception("Could not send the announcement digest of %s to doctor %s", week_start, doctor_id)
                    failed.append(doctor_id)
        if failed:
            DigestSent.objects.filter(doctor_id__in=failed, week_start=week_start).delete()
    return len(inserted) - len(failed)


@dataclass(frozen=True)
class Run:
    sent: int
    last_doctor: int  # the id of the last doctor this run reached; a continuation starts after it
    done: bool


def digests_send_some(week_start: date, *, after: int = 0, seconds: float | None = RUN_SECONDS) -> Run:
    """Send the digests of the week of `week_start` to the doctors after `after`, BATCH at a time, until none is
    left or, `seconds` being given, that time has passed. One that fails is logged and does not stop the others."""
    published = _published(week_start)
    items = _items(published)
    deadline = None if seconds is None else monotonic() + seconds
    sent = 0
    while True:
        batch = _due(published, week_start, after=after, limit=BATCH)
        if not batch:
            return Run(sent=sent, last_doctor=after, done=True)
        sent += _send_batch(batch, items, week_start)
        after = batch[-1].doctor.pk
        if len(batch) < BATCH:
            return Run(sent=sent, last_doctor=after, done=True)
        if deadline is not None and monotonic() >= deadline:
            return Run(sent=sent, last_doctor=after, done=False)


def digests_send(day: date) -> int:
    """Send all the digests due in the week of `day`; returns how many went out."""
    return digests_send_some(week_of(day), seconds=None).sent


@shared_task
def send_announcement_digests(day: str | None = None, after: int = 0) -> int:
    """Periodic (beat, weekly): send this week's digests of announcements (or those of the week of `day`), in runs
    of about RUN_SECONDS: a run that stops with doctors left queues the next from where it stopped. In-process (no
    broker) one call sends them all. Returns how many this run sent."""
    week_start = week_of(date.fromisoformat(day) if day else today())
    if current_app.conf.task_always_eager:
        return digests_send_some(week_start, after=after, seconds=None).sent
    run = digests_send_some(week_start, after=after, seconds=RUN_SECONDS)
    if not run.done:
        send_announcement_digests.apply_async(kwargs={"day": week_start.isoformat(), "after": run.last_doctor})
    return run.sent
