"""E-mail reminders about periodic accreditation: the window opens, 90 days left, hours short while time runs
out; each once per doctor, kind and document, and none for a doctor who turned them off."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learning_plan import filing, reminders
from learning_plan.models import PortfolioReminder, ProgrammeEntry
from learning_plan.portfolio import window_opens_on
from nmo_portal.calendar import add_months, today
from nmo_portal.celery import app as celery_app

from ..factories import PASSWORD, AccreditationDocumentFactory, DoctorProfileFactory

pytestmark = pytest.mark.django_db

Kind = PortfolioReminder.Kind
DAY = date(2026, 6, 15)


def expiring(on: date, **fields):
    """A document that expires on `on`: issued five years before (the day is one that no month clamps)."""
    assert on.day <= 28
    return AccreditationDocumentFactory(issued_on=add_months(on, -60), **fields)


def programme(document, hours=144):
    """A programme of so many hours in the document's period: 144 meet what accreditation needs."""
    return ProgrammeEntry.objects.create(
        doctor=document.doctor,
        specialty=document.specialty,
        name="Психиатрия: современные подходы",
        organization="РМАНПО",
        hours=hours,
        starts_on=document.issued_on + timedelta(days=30),
        ends_on=document.issued_on + timedelta(days=60),
        document_number="180001234567",
    )


def test_a_beat_run_sends_each_due_reminder_once_and_a_second_run_sends_nothing(mailoutbox):
    window = expiring(DAY + timedelta(days=200))  # window open, hours short but not yet in the last 180 days
    ninety = expiring(DAY + timedelta(days=90))
    later = expiring(add_months(DAY, 13))  # window opens next month

    first = reminders.send_accreditation_reminders.delay(day=DAY.isoformat()).get()

    rows = sorted(PortfolioReminder.objects.values_list("document_id", "kind"))
    assert rows == sorted([(window.pk, Kind.WINDOW_OPEN), (ninety.pk, Kind.DAYS_90), (ninety.pk, Kind.HOURS_SHORT)])
    assert first == 3
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [window.doctor.email, ninety.doctor.email, ninety.doctor.email]
    )
    assert not any(message.to[0] == later.doctor.email for message in mailoutbox)

    again = reminders.send_accreditation_reminders.delay(day=DAY.isoformat()).get()
    next_day = reminders.send_accreditation_reminders.delay(day=(DAY + timedelta(days=1)).isoformat()).get()

    assert (again, next_day) == (0, 0)
    assert len(mailoutbox) == 3
    assert PortfolioReminder.objects.count() == 3


def test_a_doctor_who_turned_reminders_off_in_the_profile_gets_none(client, mailoutbox, psychiatry):
    document = expiring(DAY + timedelta(days=60))
    doctor = document.doctor
    client.login(username=doctor.email, password=PASSWORD)
    response = client.post(
        reverse("accounts:profile"),
        {
            "last_name": doctor.last_name,
            "first_name": doctor.first_name,
            "middle_name": doctor.middle_name,
            "snils": doctor.doctor_profile.snils,
            "specialties": [psychiatry.pk],
            "language": "ru",
            "timezone_name": "Europe/Moscow",
            # the reminders' box left unticked
        },
    )
    assert response.status_code == 302
    doctor.doctor_profile.refresh_from_db()
    assert doctor.doctor_profile.accreditation_reminders is False
    assert 'name="accreditation_reminders"' in client.get(reverse("accounts:profile")).content.decode()
    other = expiring(DAY + timedelta(days=60))

    reminders.reminders_send(DAY)

    assert {message.to[0] for message in mailoutbox} == {other.doctor.email}
    assert not PortfolioReminder.objects.filter(doctor=doctor).exists()


@pytest.mark.parametrize(
    ("expires_on", "months"),
    [(date(2027, 6, 1), 12), (date(2029, 2, 28), 12), (date(2027, 5, 31), 3)],
    ids=["plain", "after-a-leap-day-issue", "window-opening-on-a-clamped-month-end"],
)
def test_the_window_open_reminder_is_sent_the_day_the_window_opens_and_not_the_day_before(
    expires_on, months, mailoutbox, settings
):
    settings.ACCREDITATION_WINDOW_MONTHS = months
    document = AccreditationDocumentFactory(issued_on=add_months(expires_on, -60))
    assert document.expires_on == expires_on
    programme(document)  # hours met: only the window's reminder is due
    opens = window_opens_on(expires_on)

    assert reminders.reminders_send(opens - timedelta(days=1)) == 0
    assert mailoutbox == []

    assert reminders.reminders_send(opens) == 1

    assert PortfolioReminder.objects.get().kind == Kind.WINDOW_OPEN
    (message,) = mailoutbox
    assert message.to == [document.doctor.email]
    assert "окно подачи" in message.subject


def test_the_leap_day_issue_opens_its_window_on_the_28th_of_february():
    """Issued on 29 February 2024: it expires on 28 February 2029, and its window opens on 28 February 2028."""
    document = AccreditationDocumentFactory(issued_on=date(2024, 2, 29))
    programme(document)
    assert window_opens_on(document.expires_on) == date(2028, 2, 28)
    assert reminders.reminders_send(date(2028, 2, 27)) == 0
    assert reminders.reminders_send(date(2028, 2, 28)) == 1


def test_the_90_day_reminder_starts_at_90_days_and_ends_with_expiry(mailoutbox):
    document = expiring(DAY + timedelta(days=91))
    programme(document)
    reminders.reminders_send(DAY)
    assert set(PortfolioReminder.objects.values_list("kind", flat=True)) == {Kind.WINDOW_OPEN}

    reminders.reminders_send(DAY + timedelta(days=1))

    assert set(PortfolioReminder.objects.values_list("kind", flat=True)) == {Kind.WINDOW_OPEN, Kind.DAYS_90}
    assert "90" in mailoutbox[-1].subject
    expired = expiring(DAY)
    assert reminders.reminders_send(DAY) == 0
    assert not PortfolioReminder.objects.filter(document=expired).exists()


def test_hours_short_is_sent_in_the_last_180_days_with_the_gaps_of_the_closest_alternative(mailoutbox):
    short = expiring(DAY + timedelta(days=180))
    met = expiring(DAY + timedelta(days=150))
    programme(met)
    programme(short, hours=100)

    reminders.reminders_send(DAY - timedelta(days=1))
    assert not PortfolioReminder.objects.filter(kind=Kind.HOURS_SHORT).exists()

    reminders.reminders_send(DAY)

    (row,) = PortfolioReminder.objects.filter(kind=Kind.HOURS_SHORT)
    assert row.document == short
    (message,) = [m for m in mailoutbox if m.to == [short.doctor.email] and "час" in m.subject]
    # 100 programme hours: 144 programme hours are 44 short, 74 + 70 are 70 short (no НМО): the first is closer
    assert "Ближе всего к выполнению: Программы образовательных организаций: 144 часа." in message.body
    assert "не хватает 44 часов из 144" in message.body
    assert "НМО" not in message.body.split("Ещё не хватает:")[1].split("\n\n")[0]


def test_no_reminder_for_a_filed_or_accredited_portfolio_nor_an_older_document(mailoutbox):
    filed = expiring(DAY + timedelta(days=60))
    filing.filing_record(portfolio=filed.portfolio, doctor=filed.doctor, filed_on=today())
    accredited = expiring(DAY + timedelta(days=60))
    accredited.portfolio.filing = "accredited"
    accredited.portfolio.filed_on = today()
    accredited.portfolio.save()
    superseded = expiring(DAY + timedelta(days=60))
    AccreditationDocumentFactory(doctor=superseded.doctor, issued_on=today() - timedelta(days=10))
    refused = expiring(DAY + timedelta(days=60))
    refused.portfolio.filing = "refused"
    refused.portfolio.filed_on = today()
    refused.portfolio.save()

    reminders.reminders_send(DAY)

    assert {message.to[0] for message in mailoutbox} == {refused.doctor.email}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", ["Открыто окно подачи", "/me/portfolio/31.08.20/", "Напоминания об аккредитации по e-mail"]),
        ("en", ["filing window", "/me/portfolio/31.08.20/", "E-mail reminders about accreditation"]),
    ],
)
def test_the_email_is_in_the_doctors_language_with_links_to_the_portfolio_and_the_profile(language, words, mailoutbox):
    document = expiring(DAY + timedelta(days=200))
    document.doctor.language = language
    document.doctor.save(update_fields=["language"])

    reminders.reminders_send(DAY)

    (message,) = mailoutbox
    text = message.subject + "\n" + message.body
    for word in words:
        assert word in text
    assert f"{settings.SITE_URL}{filing.portfolio_path('31.08.20')}" in message.body
    assert f"{settings.SITE_URL}{reverse('accounts:profile')}#reminders" in message.body


def test_a_send_that_fails_is_tried_again_the_next_day(mailoutbox, monkeypatch):
    document = expiring(DAY + timedelta(days=200))

    def broken(self, *args, **kwargs):
        raise ConnectionError("SMTP is down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    assert reminders.reminders_send(DAY) == 0
    assert not PortfolioReminder.objects.exists()
    monkeypatch.undo()

    assert reminders.reminders_send(DAY + timedelta(days=1)) == 1
    assert PortfolioReminder.objects.get().document == document


def test_a_run_reads_only_the_documents_near_expiry_by_the_index():
    """Doctors whose documents expire years from now cost the run nothing: its queries are a range of the expiry
    index per kind, and a range of the days the hours are weighed again, as many for 30 such doctors as for none."""
    for _ in range(30):
        expiring(DAY + timedelta(days=1000))
    DoctorProfileFactory.create_batch(5)

    with CaptureQueriesContext(connection) as run:
        assert reminders.reminders_send(DAY) == 0

    selects = [q["sql"] for q in run.captured_queries if "accreditationdocument" in q["sql"]]
    assert len(run.captured_queries) == 4  # one range per kind, and the hours weighed again
    assert all('"expires_on" >' in sql and '"expires_on" <=' in sql for sql in selects[:3])
    assert '"hours_short_next_on" <=' in selects[3]


def test_the_reminders_run_daily_by_beat():
    from celery.schedules import crontab

    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("accreditation_reminders")]
    assert entry["task"] == "learning_plan.reminders.send_accreditation_reminders"
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {settings.ACCREDITATION_REMINDERS_HOUR}


def test_a_run_stops_after_a_bounded_batch_and_its_continuation_sends_the_rest_once(mailoutbox, monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 2)
    documents = [expiring(DAY + timedelta(days=60 + n)) for n in range(3)]  # each: 90 days left and hours short

    first = reminders.reminders_send_some(DAY, seconds=0)
    assert first.sent == 1  # the first document's 90-day reminder, then out of time
    assert first.stopped_at == reminders.Position(
        kind=Kind.DAYS_90, expires_on=documents[0].expires_on, document=documents[0].pk
    )

    rest = reminders.reminders_send_some(DAY, after=first.stopped_at, seconds=60)
    assert rest.stopped_at is None
    assert first.sent + rest.sent == 6
    rows = sorted(PortfolioReminder.objects.values_list("document_id", "kind"))
    assert rows == sorted((d.pk, kind) for d in documents for kind in (Kind.DAYS_90, Kind.HOURS_SHORT))
    assert len(mailoutbox) == 6
    assert reminders.reminders_send(DAY) == 0  # nothing twice


def test_the_task_queues_its_continuation_where_the_run_stopped(monkeypatch):
    monkeypatch.setattr(reminders, "BATCH", 1)
    monkeypatch.setattr(reminders, "RUN_SECONDS", 0)
    documents = [expiring(DAY + timedelta(days=60 + n)) for n in range(2)]
    queued = []
    celery_app.conf.task_always_eager = False  # a worker runs the tasks (the autouse fixture turns it back)
    monkeypatch.setattr(reminders.send_accreditation_reminders, "apply_async", lambda kwargs: queued.append(kwargs))

    assert reminders.send_accreditation_reminders(day=DAY.isoformat()) == 1
    assert queued == [
        {
            "day": DAY.isoformat(),
            "after": {
                "kind": Kind.DAYS_90,
                "expires_on": documents[0].expires_on.isoformat(),
                "document": documents[0].pk,
            },
        }
    ]
    assert reminders.send_accreditation_reminders(**queued[0]) == 1
    assert set(PortfolioReminder.objects.filter(kind=Kind.DAYS_90).values_list("document_id", flat=True)) == {
        d.pk for d in documents
    }
