"""What makes a day's accreditation reminders read only the documents a reminder may be due for: each document
marked as its reminders go out, hours weighed again only after HOURS_RECHECK_DAYS, and the reminders sent before
the markers existed marked by the migration that adds them; each reminder still sent once and only when due."""

import importlib
import json
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.mail import EmailMessage
from django.db import connection, transaction

from learning_plan import reminders
from learning_plan.models import AccreditationDocument, PortfolioReminder, ProgrammeEntry
from nmo_portal.calendar import add_months

from ..factories import AccreditationDocumentFactory

pytestmark = pytest.mark.django_db

Kind = PortfolioReminder.Kind
DAY = date(2026, 6, 15)


def expiring(on: date) -> AccreditationDocument:
    assert on.day <= 28
    return AccreditationDocumentFactory(issued_on=add_months(on, -60))


def days_from(first: date, count: int) -> list[date]:
    """`count` days from `first` on that no month clamps (the 28th at most)."""
    days = (first + timedelta(days=n) for n in range(count * 2))
    return [day for day in days if day.day <= 28][:count]


def programme(document: AccreditationDocument, hours: int = 144) -> ProgrammeEntry:
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


def sent(document: AccreditationDocument) -> list[str]:
    return sorted(PortfolioReminder.objects.filter(document=document).values_list("kind", flat=True))


@pytest.fixture
def weighings(monkeypatch):
    """How many portfolios the runs weigh (hours short's cost), document by document."""
    counted: list[int] = []
    weigh = reminders.specialty_portfolio

    def counting(**kwargs):
        counted.append(kwargs["doctor"].pk)
        return weigh(**kwargs)

    monkeypatch.setattr(reminders, "specialty_portfolio", counting)
    return counted


def documents_read(step: str, day: date) -> int:
    """The document rows PostgreSQL reads for the first batch of a pass (EXPLAIN ANALYZE of its query), by the
    indexes it has: a table of a few dozen rows is otherwise read whole, a page, whatever the query."""
    sql, params = reminders._candidates(step, day)[: reminders.BATCH].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node):
        own = 0
        if node.get("Relation Name") == AccreditationDocument._meta.db_table:
            own = (
                node["Actual Rows"]
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            )
            own *= node.get("Actual Loops", 1)
        return own + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rows read are told by PostgreSQL's EXPLAIN")
def test_the_day_after_the_runs_read_none_of_the_documents_already_reminded(mailoutbox):
    window = [expiring(on) for on in days_from(DAY + timedelta(days=200), 25)]  # the window open, 90 days not yet
    ninety = [expiring(on) for on in days_from(DAY + timedelta(days=30), 25)]
    for document in window + ninety:
        programme(document)  # hours met: only the window's and the 90-day reminders
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE learning_plan_accreditationdocument")
    assert documents_read(Kind.WINDOW_OPEN, DAY) >= 25

    assert reminders.reminders_send(DAY) == 25 + 25  # the window's, and 90 days left
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE learning_plan_accreditationdocument")  # what autovacuum keeps up to date

    tomorrow = DAY + timedelta(days=1)
    assert documents_read(Kind.WINDOW_OPEN, tomorrow) == 0  # not 25: the reminded are out of the index
    assert documents_read(Kind.DAYS_90, tomorrow) == 0
    assert documents_read(reminders.HOURS_AGAIN, tomorrow) == 0  # weighed today, again in HOURS_RECHECK_DAYS
    assert reminders.reminders_send(tomorrow) == 0


def test_hours_found_met_are_weighed_again_after_the_recheck_days_and_a_shortfall_is_then_reminded_once(
    mailoutbox, weighings
):
    document = expiring(DAY + timedelta(days=150))
    held = programme(document)

    reminders.reminders_send(DAY)
    assert sent(document) == [Kind.WINDOW_OPEN]  # hours met: none for them
    assert len(weighings) == 1
    held.delete()  # a programme taken back: the hours are short now

    for later in range(1, reminders.HOURS_RECHECK_DAYS):
        reminders.reminders_send(DAY + timedelta(days=later))
    assert sent(document) == [Kind.WINDOW_OPEN]  # not weighed every day
    assert len(weighings) == 1

    reminders.reminders_send(DAY + timedelta(days=reminders.HOURS_RECHECK_DAYS))
    assert sent(document) == [Kind.HOURS_SHORT, Kind.WINDOW_OPEN]
    assert len(weighings) == 2

    for later in range(reminders.HOURS_RECHECK_DAYS + 1, 150):
        reminders.reminders_send(DAY + timedelta(days=later))
    assert sent(document) == [Kind.DAYS_90, Kind.HOURS_SHORT, Kind.WINDOW_OPEN]  # each once
    assert len(weighings) == 2  # never weighed again once reminded
    assert len(mailoutbox) == 3


def test_reminders_turned_back_on_bring_the_window_the_next_day_and_short_hours_at_the_next_weighing(
    mailoutbox, weighings
):
    document = expiring(DAY + timedelta(days=150))  # no education: hours short
    profile = document.doctor.doctor_profile
    profile.accreditation_reminders = False
    profile.save(update_fields=["accreditation_reminders"])

    assert reminders.reminders_send(DAY) == 0
    assert weighings == []  # ruled out: no portfolio weighed for it
    profile.accreditation_reminders = True
    profile.save(update_fields=["accreditation_reminders"])

    assert reminders.reminders_send(DAY + timedelta(days=1)) == 1
    assert sent(document) == [Kind.WINDOW_OPEN]
    assert reminders.reminders_send(DAY + timedelta(days=reminders.HOURS_RECHECK_DAYS)) == 1
    assert sent(document) == [Kind.HOURS_SHORT, Kind.WINDOW_OPEN]


def test_a_failed_hours_short_mail_is_tried_again_the_next_day(mailoutbox, monkeypatch):
    document = expiring(DAY + timedelta(days=100))  # the window's reminder and hours short are due

    def broken(self, *args, **kwargs):
        raise ConnectionError("SMTP is down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    assert reminders.reminders_send(DAY) == 0
    monkeypatch.undo()

    assert reminders.reminders_send(DAY + timedelta(days=1)) == 2
    assert sent(document) == [Kind.HOURS_SHORT, Kind.WINDOW_OPEN]
    assert reminders.reminders_send(DAY + timedelta(days=2)) == 0


def test_the_reminders_sent_before_the_markers_existed_are_not_sent_again(mailoutbox):
    migration = importlib.import_module("learning_plan.migrations.0005_accreditation_reminder_markers")
    window = expiring(DAY + timedelta(days=100))  # the window's reminder and hours short are due
    ninety = expiring(DAY + timedelta(days=60))  # 90 days left and hours short
    reminders.reminders_send(DAY)
    assert len(mailoutbox) == 4
    # as the documents were before the migration: their rows, no markers
    AccreditationDocument.objects.update(window_reminded=False, days_90_reminded=False, hours_short_next_on=None)

    migration.mark_the_reminders_sent(apps, None)

    marks = AccreditationDocument.objects.values_list(
        "pk", "window_reminded", "days_90_reminded", "hours_short_next_on"
    )
    reminded = AccreditationDocument.HOURS_REMINDED
    assert sorted(marks) == sorted([(window.pk, True, False, reminded), (ninety.pk, False, True, reminded)])
    assert reminders.reminders_send(DAY + timedelta(days=1)) == 0
    assert len(mailoutbox) == 4
