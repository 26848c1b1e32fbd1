"""The weekly digest: once per week per doctor, only to doctors who opted in, holding only their specialties'
announcements of the week before; unsubscribing works without signing in, and only for that person."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from nmo_portal.calendar import today
from nmo_portal.celery import app as celery_app
from societies import digest
from societies.models import DigestSent, DigestSubscription
from societies.services import digest_subscribe
from societies.tasks import send_announcement_digests

from ..concurrency import run_at_once
from ..factories import AnnouncementFactory, DoctorProfileFactory, UserFactory, specialty

pytestmark = pytest.mark.django_db

THIS_WEEK = digest.week_of(today())
LAST_WEEK = timezone.now() - timedelta(days=7)  # always inside the week before this one


def subscribed_doctor(*codes, language="ru", subscribe=True):
    doctor = DoctorProfileFactory(specialties=[specialty(code) for code in codes]).user
    doctor.language = language
    doctor.save()
    if subscribe:
        digest_subscribe(doctor=doctor)
    return doctor


def unsubscribe_link(message):
    return re.search(r"http://testserver(/announcements/unsubscribe/[^/\s]+/)", message.body).group(1)


def test_each_opted_in_doctor_gets_one_digest_a_week_with_only_their_specialties(mailoutbox):
    psychiatrist = subscribed_doctor("31.08.20")
    narcologist = subscribed_doctor("31.08.21")
    not_opted_in = subscribed_doctor("31.08.20", subscribe=False)
    cardiologist = subscribed_doctor("31.08.36")  # opted in, nothing of theirs last week
    AnnouncementFactory(title="Психиатрия: пленум", published_at=LAST_WEEK, specialties=[specialty("31.08.20")])
    AnnouncementFactory(title="Наркология: школа", published_at=LAST_WEEK, specialties=[specialty("31.08.21")])
    AnnouncementFactory(title="Отозвано", published_at=LAST_WEEK, withdrawn_at=timezone.now())
    AnnouncementFactory(title="Позапрошлая неделя", published_at=LAST_WEEK - timedelta(days=7))
    AnnouncementFactory(title="Эта неделя", published_at=digest.week_before(THIS_WEEK)[1] + timedelta(minutes=1))

    assert digest.digests_send(today()) == 2

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {psychiatrist.email, narcologist.email}
    assert not_opted_in.email not in by_recipient
    assert cardiologist.email not in by_recipient
    psychiatry_mail, narcology_mail = by_recipient[psychiatrist.email].body, by_recipient[narcologist.email].body
    assert "Психиатрия: пленум" in psychiatry_mail
    assert "Наркология: школа" not in psychiatry_mail
    assert "Наркология: школа" in narcology_mail
    assert "Психиатрия: пленум" not in narcology_mail
    for title in ("Отозвано", "Позапрошлая неделя", "Эта неделя"):
        assert title not in psychiatry_mail
    assert set(DigestSent.objects.values_list("doctor", "week_start")) == {
        (psychiatrist.pk, THIS_WEEK),
        (narcologist.pk, THIS_WEEK),
    }

    # again, later the same week, as beat's task: nothing twice
    assert digest.digests_send(today() + timedelta(days=(6 - today().weekday()))) == 0
    send_announcement_digests.delay()
    assert len(mailoutbox) == 2


def test_next_week_with_nothing_new_sends_nothing(mailoutbox):
    subscribed_doctor("31.08.20")
    AnnouncementFactory(published_at=LAST_WEEK)
    assert digest.digests_send(today()) == 1

    assert digest.digests_send(today() + timedelta(days=7)) == 0
    assert len(mailoutbox) == 1
    assert DigestSent.objects.count() == 1


def test_the_digest_is_written_in_each_doctors_language(mailoutbox):
    russian, english = subscribed_doctor("31.08.20"), subscribed_doctor("31.08.20", language="en")
    AnnouncementFactory(published_at=LAST_WEEK)

    digest.digests_send(today())

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert by_recipient[russian.email].subject == "[Портал НМО] 1 новое объявление по вашим специальностям"
    assert by_recipient[english.email].subject == "[НМО Portal] 1 new announcement for your specialties"
    assert "Отписаться одним нажатием" in by_recipient[russian.email].body
    assert "Stop it with one click" in by_recipient[english.email].body


def test_a_send_that_fails_leaves_no_row_and_the_next_run_sends_it(mailoutbox, monkeypatch):
    doctor = subscribed_doctor("31.08.20")
    AnnouncementFactory(published_at=LAST_WEEK)
    real_send = EmailMessage.send

    def broken(self, *args, **kwargs):
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    assert digest.digests_send(today()) == 0
    assert not DigestSent.objects.exists()

    monkeypatch.setattr(EmailMessage, "send", real_send)
    assert digest.digests_send(today()) == 1
    assert [message.to for message in mailoutbox] == [[doctor.email]]


def test_beat_sends_the_digest_weekly_through_a_registered_task():
    entry = settings.CELERY_BEAT_SCHEDULE["send-announcement-digests"]
    assert entry["task"] == send_announcement_digests.name
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].day_of_week == {1}  # Mondays
    assert (len(entry["schedule"].hour), len(entry["schedule"].minute)) == (1, 1)  # once that day


def test_the_link_unsubscribes_without_signing_in_and_only_that_doctor(mailoutbox):
    doctor, colleague = subscribed_doctor("31.08.20"), subscribed_doctor("31.08.20")
    AnnouncementFactory(published_at=LAST_WEEK)
    digest.digests_send(today())
    message = next(m for m in mailoutbox if m.to == [doctor.email])
    link = unsubscribe_link(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<http://testserver{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    anonymous = Client()
    page = anonymous.get(link)
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    assert DigestSubscription.objects.filter(doctor=doctor).exists()  # a GET (a link preview) changes nothing

    done = anonymous.post(link)

    assert done.status_code == 200
    assert not DigestSubscription.objects.filter(doctor=doctor).exists()
    assert DigestSubscription.objects.filter(doctor=colleague).exists()
    audit = AuditEvent.objects.get(action="announcement_digest.unsubscribe")
    assert (audit.actor, audit.object_id, audit.details["via"]) == (None, str(doctor.pk), "link")
    # the next week's digest goes to the colleague alone
    AnnouncementFactory(published_at=timezone.now())
    assert digest.digests_send(today() + timedelta(days=7)) == 1
    assert mailoutbox[-1].to == [colleague.email]


def test_a_mail_programs_one_click_post_needs_no_csrf_token():
    doctor = subscribed_doctor("31.08.20")
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        reverse("societies:digest_unsubscribe", args=[digest.unsubscribe_token(doctor.pk)]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not DigestSubscription.objects.exists()


def tampered(token: str, other_id: int) -> list[str]:
    _value, _sep, rest = token.partition(":")
    return [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # a signature character changed
        f"{signing.b64_encode(str(other_id).encode()).decode()}:{rest}",  # another doctor's id, this signature
        token[:-10],  # cut short
        signing.dumps(other_id),  # another doctor's id signed without the digest's salt
        signing.dumps(other_id, salt="another.salt"),
        "x" * 500,
    ]


def test_a_tampered_link_changes_nothing():
    doctor, colleague = subscribed_doctor("31.08.20"), subscribed_doctor("31.08.20")
    for bad in tampered(digest.unsubscribe_token(doctor.pk), colleague.pk):
        client = Client()
        url = reverse("societies:digest_unsubscribe", args=[bad])
        assert client.get(url).status_code == 404, bad
        assert client.post(url).status_code == 404, bad
    assert DigestSubscription.objects.count() == 2
    assert not AuditEvent.objects.filter(action="announcement_digest.unsubscribe").exists()


def test_the_doctor_turns_the_digest_on_and_off_on_its_page(client, doctor):
    client.force_login(doctor)
    url = reverse("societies:digest")
    assert client.get(url).status_code == 200

    client.post(url, {"subscribed": "on"})
    assert DigestSubscription.objects.filter(doctor=doctor).exists()
    assert "checked" in client.get(url).content.decode()

    client.post(url, {})
    assert not DigestSubscription.objects.filter(doctor=doctor).exists()
    actions = AuditEvent.objects.filter(actor=doctor, action__startswith="announcement_digest.").order_by("pk")
    assert list(actions.values_list("action", flat=True)) == [
        "announcement_digest.subscribe",
        "announcement_digest.unsubscribe",
    ]


def test_the_digest_page_needs_a_signed_in_doctor(client):
    url = reverse("societies:digest")
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(UserFactory())  # no doctor's profile
    response = client.post(url, {"subscribed": "on"})
    assert response.status_code == 400
    assert not DigestSubscription.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locking is PostgreSQL's; CI runs this there")
def test_beat_runs_at_the_same_instant_send_each_digest_once(mailoutbox):
    doctors = [subscribed_doctor("31.08.20") for _ in range(6)]
    AnnouncementFactory(published_at=LAST_WEEK)

    outcomes = run_at_once([lambda: digest.digests_send(today())] * 4)

    assert [kind for kind, _ in outcomes] == ["ok"] * 4, outcomes
    assert sum(sent for _, sent in outcomes) == 6
    assert Counter(message.to[0] for message in mailoutbox) == Counter({doctor.email: 1 for doctor in doctors})
    assert DigestSent.objects.count() == 6


def test_a_run_sends_a_bounded_batch_and_its_continuation_the_rest_each_once(mailoutbox, monkeypatch):
    monkeypatch.setattr(digest, "BATCH", 2)
    doctors = [subscribed_doctor("31.08.20") for _ in range(5)]
    AnnouncementFactory(published_at=LAST_WEEK)

    # out of time after the first batch: two digests went, and the run says where the next one starts
    first = digest.digests_send_some(THIS_WEEK, seconds=0)
    assert (first.sent, first.done) == (2, False)
    assert {message.to[0] for message in mailoutbox} == {doctor.email for doctor in doctors[:2]}

    rest = digest.digests_send_some(THIS_WEEK, after=first.last_doctor, seconds=60)
    assert (rest.sent, rest.done) == (3, True)
    assert Counter(message.to[0] for message in mailoutbox) == Counter({doctor.email: 1 for doctor in doctors})
    # a run again from the start finds nothing left to send
    assert digest.digests_send_some(THIS_WEEK, seconds=60).sent == 0
    assert len(mailoutbox) == 5


def test_the_digests_take_a_few_queries_whatever_the_number_of_doctors(mailoutbox, django_assert_max_num_queries):
    for _ in range(12):
        subscribed_doctor("31.08.20")
    subscribed_doctor("31.08.21")
    AnnouncementFactory(published_at=LAST_WEEK, specialties=[specialty("31.08.20")])
    AnnouncementFactory(published_at=LAST_WEEK, specialties=[specialty("31.08.21")])

    # the announcements (2), then the batch: its doctors with their specialties (4), the rows (1), the transaction
    with django_assert_max_num_queries(10):
        assert digest.digests_send(today()) == 13
    assert len(mailoutbox) == 13


def test_the_task_sends_the_whole_week_in_process():
    doctors = [subscribed_doctor("31.08.20") for _ in range(3)]
    AnnouncementFactory(published_at=LAST_WEEK)
    assert send_announcement_digests() == len(doctors)
    assert DigestSent.objects.filter(week_start=THIS_WEEK).count() == 3
