"""An event's calendar days are those of its own time zone, whatever the zone of whoever looks at it.

SPEC.md, "Interface": the per-day credit cap, the date a credit is earned, the dates on certificates, the
cycle a credit counts in, the form's times and the catalogue's date filters follow the event's zone; a
module completion sent without a zone is Moscow time and is earned on its Moscow day.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from codes.certificate_pdf import certificate_pdf, event_dates
from codes.format import format_code, generate_codes
from codes.models import IcpCode
from credits.models import CreditEntry
from events.models import Event
from learning_plan.models import CycleRule
from learning_plan.services import cycle_add
from modules.models import ModuleCompletion
from modules.services import completion_report
from nmo_portal.calendar import register_zone
from review import services
from review.models import Status

from ..factories import EventFactory, MembershipFactory, ModuleFactory, moscow
from ..pdf import pdf_text

pytestmark = pytest.mark.django_db

MOSCOW = register_zone()
VLADIVOSTOK = ZoneInfo("Asia/Vladivostok")  # UTC+10: seven hours ahead of Moscow


# The Vladivostok scenario: credited on 31 December, and counted in the cycle that holds it.


@pytest.fixture
def new_years_eve_event(psychiatry):
    """An approved psychiatry event in Moscow that ended on 31.12.2025 at 20:00 Moscow time (1 January, 03:00,
    in Vladivostok)."""
    return EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=datetime(2025, 12, 31, 10, tzinfo=MOSCOW),
        ends_at=datetime(2025, 12, 31, 20, tzinfo=MOSCOW),
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )


@pytest.fixture
def doctor_in_vladivostok(doctor, psychiatry):
    """A doctor whose profile shows Vladivostok time, with a psychiatry cycle ending 31.12.2025 and the next one
    starting 1.1.2026."""
    doctor.timezone = "Asia/Vladivostok"
    doctor.save(update_fields=["timezone"])
    rule = CycleRule.objects.get(is_default=True)
    cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2021, 1, 1), rule=rule)
    cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2026, 1, 1), rule=rule)
    return doctor


def activate_through(door, client, code):
    if door == "api":
        response = client.post(
            reverse("api:api-codes:activate"), {"code": format_code(code.code)}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
    else:
        response = client.post(reverse("codes:activate"), {"code": format_code(code.code)})
        assert response.status_code == 302, response.content


@pytest.mark.parametrize("door", ["api", "page"])
def test_a_doctor_in_vladivostok_is_credited_on_the_events_own_last_day_and_in_that_days_cycle(
    client, door, doctor_in_vladivostok, new_years_eve_event
):
    code = IcpCode.objects.create(code=generate_codes(1)[0], event=new_years_eve_event)
    client.force_login(doctor_in_vladivostok)

    activate_through(door, client, code)

    entry = CreditEntry.objects.get(doctor=doctor_in_vladivostok)
    assert entry.earned_on == date(2025, 12, 31)
    plan = client.get(reverse("api:api-learning_plan:plan")).json()
    ending, starting = sorted(plan["cycles"], key=lambda cycle: cycle["starts_on"])
    assert (ending["ends_on"], starting["starts_on"]) == ("2025-12-31", "2026-01-01")
    assert [(r["earned_on"], r["credits"]) for r in ending["records"]] == [("2025-12-31", 6)]
    assert starting["records"] == []
    # and the doctor's own list shows the day the credit was earned, not the day it is in Vladivostok
    page = client.get(reverse("codes:activate")).content.decode()
    assert "31.12.2025" in page


# The per-day credit cap.


def one_day_in_moscow(member, credits):
    """10:00-20:00 in Moscow: one calendar day there, two in Vladivostok (17:00-03:00)."""
    return EventFactory(
        organization=member.organization,
        starts_at=moscow(60, 10),
        ends_at=moscow(60, 20),
        hours=8,
        credits_requested=credits,
    )


@pytest.mark.parametrize("viewer_zone", ["Europe/Moscow", "Asia/Vladivostok", "America/New_York"])
def test_the_day_cap_is_the_same_whatever_the_zone_of_who_looks(viewer_zone, reviewer):
    member = MembershipFactory()
    event = one_day_in_moscow(member, credits=7)
    with timezone.override(ZoneInfo(viewer_zone)), translation.override("en"):
        event = Event.objects.get(pk=event.pk)
        assert event.days == 1
        problems = services.submission_problems(event)
        with pytest.raises(services.SubmissionRefused) as refused:
            services.activity_submit(activity=event, actor=member.user)
    assert any("at most 6 credits" in problem for problem in problems), problems
    assert "at most 6 credits" in str(refused.value.message)


def test_a_provider_in_vladivostok_cannot_ask_seven_credits_for_a_one_day_moscow_event(client, reviewer):
    member = MembershipFactory()
    member.user.timezone = "Asia/Vladivostok"
    member.user.save(update_fields=["timezone"])
    event = one_day_in_moscow(member, credits=7)
    client.force_login(member.user)

    client.post(reverse("events:submit", args=[event.pk]))

    event.refresh_from_db()
    assert event.status == Status.DRAFT


# Times typed into the form and sent to the API are in the event's zone.


def form_data(psychiatry, **fields):
    return {
        "title": "Школа психиатров Приморья",
        "programme": "Лекции и клинические разборы.",
        "format": "in_person",
        "venue": "Владивосток, ул. Светланская, 1",
        "link": "",
        "timezone": "Asia/Vladivostok",
        "starts_at": "2027-03-10T10:00",
        "ends_at": "2027-03-10T18:00",
        "specialties": [psychiatry.pk],
        "hours": "8",
        "credits_requested": "6",
        **fields,
    }


def test_times_typed_into_the_form_are_in_the_events_zone_whoever_types_them(client, psychiatry):
    member = MembershipFactory()
    member.user.timezone = "Europe/Kaliningrad"
    member.user.save(update_fields=["timezone"])
    client.force_login(member.user)

    response = client.post(reverse("events:create", args=[member.organization.pk]), form_data(psychiatry))

    assert response.status_code == 302, response.content.decode()
    event = Event.objects.get()
    assert event.timezone == "Asia/Vladivostok"
    assert event.starts_at == datetime(2027, 3, 10, 10, tzinfo=VLADIVOSTOK)
    assert event.ends_at == datetime(2027, 3, 10, 18, tzinfo=VLADIVOSTOK)
    assert (event.start_date, event.end_date) == (date(2027, 3, 10), date(2027, 3, 10))
    # editing shows the times as they were typed, in the event's zone, not in the editor's
    form = client.get(reverse("events:edit", args=[event.pk])).content.decode()
    assert 'value="2027-03-10T10:00"' in form
    assert 'value="2027-03-10T18:00"' in form


def test_the_form_refuses_an_unknown_zone_and_a_zone_other_than_moscow_for_an_online_event(client, psychiatry):
    member = MembershipFactory()
    client.force_login(member.user)
    url = reverse("events:create", args=[member.organization.pk])

    unknown = client.post(url, form_data(psychiatry, timezone="Mars/Olympus"))
    online = client.post(url, form_data(psychiatry, format="online", venue="", link="https://school.example.org"))

    assert (unknown.status_code, online.status_code) == (400, 400)
    assert not Event.objects.exists()


def test_the_api_reads_times_without_an_offset_in_the_events_zone_and_returns_them_in_it(psychiatry):
    member = MembershipFactory()
    member.user.timezone = "Europe/Kaliningrad"
    member.user.save(update_fields=["timezone"])
    api = APIClient()
    api.force_login(member.user)
    response = api.post(
        "/api/v1/events/",
        {
            "organization": member.organization.pk,
            "title": "Школа психиатров Приморья",
            "programme": "Лекции.",
            "format": "in_person",
            "venue": "Владивосток",
            "timezone": "Asia/Vladivostok",
            "starts_at": "2027-03-10T10:00:00",
            "ends_at": "2027-03-10T18:00:00+10:00",
            "specialties": [psychiatry.code],
            "hours": 8,
            "credits_requested": 6,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["timezone"], body["starts_at"], body["ends_at"]) == (
        "Asia/Vladivostok",
        "2027-03-10T10:00:00+10:00",
        "2027-03-10T18:00:00+10:00",
    )
    event = Event.objects.get()
    assert event.starts_at == datetime(2027, 3, 10, 10, tzinfo=VLADIVOSTOK)

    moved = api.patch(f"/api/v1/events/{event.pk}/", {"starts_at": "2027-03-10T09:00"}, format="json")
    assert moved.status_code == 200, moved.json()
    event.refresh_from_db()
    assert event.starts_at == datetime(2027, 3, 10, 9, tzinfo=VLADIVOSTOK)

    unknown = api.patch(f"/api/v1/events/{event.pk}/", {"timezone": "Mars/Olympus"}, format="json")
    assert unknown.status_code == 400
    assert "timezone" in str(unknown.json())


def test_an_event_without_a_zone_is_in_moscow(psychiatry):
    member = MembershipFactory()
    api = APIClient()
    api.force_authenticate(member.user)
    response = api.post(
        "/api/v1/events/",
        {
            "organization": member.organization.pk,
            "title": "Вебинар",
            "programme": "Лекция.",
            "format": "online",
            "link": "https://webinar.example.org",
            "starts_at": "2027-03-10T10:00:00",
            "ends_at": "2027-03-10T12:00:00",
            "specialties": [psychiatry.code],
            "hours": 2,
            "credits_requested": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Event.objects.get().starts_at == datetime(2027, 3, 10, 10, tzinfo=MOSCOW)
    assert response.json()["timezone"] == "Europe/Moscow"


# The catalogue filters on the events' own days.


@pytest.fixture
def early_morning_in_vladivostok(psychiatry):
    """10.03.2027 01:00-08:00 in Vladivostok: still 9 March (18:00) in Moscow when it starts."""
    return EventFactory(
        approved=True,
        timezone="Asia/Vladivostok",
        starts_at=datetime(2027, 3, 10, 1, tzinfo=VLADIVOSTOK),
        ends_at=datetime(2027, 3, 10, 8, tzinfo=VLADIVOSTOK),
        specialties=[psychiatry],
    )


@pytest.mark.parametrize("viewer_zone", [None, "Europe/Moscow", "Asia/Vladivostok"])
def test_the_catalogue_date_filters_compare_the_events_own_days(
    client, user, early_morning_in_vladivostok, viewer_zone
):
    if viewer_zone is not None:  # else anonymous, in the register's zone
        user.timezone = viewer_zone
        user.save(update_fields=["timezone"])
        client.force_login(user)

    def found(**params):
        api = client.get("/api/v1/catalog/events/", params).json()["results"]
        page = client.get(reverse("events:catalog"), params).content.decode()
        in_api = [row["id"] for row in api] == [early_morning_in_vladivostok.pk]
        assert in_api == (early_morning_in_vladivostok.title in page)
        return in_api

    assert found(date_from="2027-03-10", date_to="2027-03-10")
    assert not found(date_to="2027-03-09")
    assert not found(date_from="2027-03-11")


def test_the_date_filters_find_a_long_event_begun_before_the_days_and_events_at_the_ends_of_the_zones(client):
    """The catalogue reads a window of days by the events' start (events.selectors._starts_between): an event that
    began weeks before it and runs into it, and one whose day began 14 hours before UTC's or ends 12 after, are in
    it all the same."""
    kiritimati, baker_island = ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")  # UTC+14, UTC−12
    course = EventFactory(
        approved=True,
        title="Шестинедельный курс",
        starts_at=datetime(2027, 2, 1, 10, tzinfo=MOSCOW),
        ends_at=datetime(2027, 3, 15, 18, tzinfo=MOSCOW),
    )
    dawn = EventFactory(
        approved=True,
        title="Рассвет на Киритимати",
        timezone="Pacific/Kiritimati",
        starts_at=datetime(2027, 3, 10, 0, 30, tzinfo=kiritimati),  # 9 March, 10:30 UTC
        ends_at=datetime(2027, 3, 10, 2, tzinfo=kiritimati),
    )
    dusk = EventFactory(
        approved=True,
        title="Закат на острове Бейкер",
        timezone="Etc/GMT+12",
        starts_at=datetime(2027, 3, 10, 23, tzinfo=baker_island),  # 11 March, 11:00 UTC
        ends_at=datetime(2027, 3, 10, 23, 45, tzinfo=baker_island),
    )

    def found(**params):
        api = [row["title"] for row in client.get("/api/v1/catalog/events/", params).json()["results"]]
        page = client.get(reverse("events:catalog"), params).content.decode()
        assert [title for title in (course.title, dawn.title, dusk.title) if title in page] == api
        return api

    assert found(date_from="2027-03-10", date_to="2027-03-10") == [course.title, dawn.title, dusk.title]
    assert found(date_from="2027-03-11", date_to="2027-03-12") == [course.title]
    assert found(date_to="2027-03-09") == [course.title]
    assert found(date_from="2027-03-10") == [course.title, dawn.title, dusk.title]
    assert found(date_from="2027-03-16") == []


# Certificates.


def test_certificate_dates_are_the_events_days_in_its_own_zone(tmp_path):
    # 05:00-18:00 in Vladivostok on 12 March: it begins on 11 March, 22:00, in Moscow.
    event = EventFactory(
        approved=True,
        timezone="Asia/Vladivostok",
        starts_at=datetime(2025, 3, 12, 5, tzinfo=VLADIVOSTOK),
        ends_at=datetime(2025, 3, 12, 18, tzinfo=VLADIVOSTOK),
    )
    code = IcpCode.objects.create(code=generate_codes(1)[0], event=event, holder_name="Петрова Мария")

    assert event_dates(event) == "12.03.2025"
    text = pdf_text(certificate_pdf([code], compress=False), tmp_path)
    assert "12.03.2025" in text
    assert "11.03.2025" not in text


# Module completions: Moscow time, the Moscow day.


def test_a_completion_sent_without_a_zone_is_earned_on_its_moscow_day_whoever_reports_it(doctor, psychiatry):
    member = MembershipFactory()
    member.user.timezone = "Asia/Vladivostok"
    member.user.save(update_fields=["timezone"])
    module = ModuleFactory(organization=member.organization, approved=True, specialties=[psychiatry])
    api = APIClient()
    api.force_login(member.user)

    response = api.post(
        f"/api/v1/modules/{module.pk}/completions/",
        {"external_id": "lms-31", "email": doctor.email, "completed_at": "2025-12-31T22:30:00"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    entry = CreditEntry.objects.get(doctor=doctor)
    assert ModuleCompletion.objects.get(pk=entry.source_id).completed_at == datetime(
        2025, 12, 31, 22, 30, tzinfo=MOSCOW
    )
    assert entry.earned_on == date(2025, 12, 31)


def test_a_completion_with_an_offset_is_earned_on_the_moscow_day_of_that_moment(doctor, psychiatry):
    member = MembershipFactory()
    module = ModuleFactory(organization=member.organization, approved=True, specialties=[psychiatry])
    with timezone.override(VLADIVOSTOK):
        completion_report(
            module=module,
            actor=member.user,
            external_id="lms-1",
            # 1 January, 02:00 in Vladivostok is still 31 December in Moscow
            completed_at=datetime(2026, 1, 1, 2, tzinfo=VLADIVOSTOK),
            email=doctor.email,
        )
    assert CreditEntry.objects.get(doctor=doctor).earned_on == date(2025, 12, 31)
