from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from modules.models import Module
from review.models import Status

from ..factories import EventFactory, ModuleFactory, OrganizationFactory, moscow

EVENTS = reverse("api:api-events:catalog-event-list")
MODULES = reverse("api:api-modules:catalog-module-list")


def titles(response):
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


@pytest.mark.django_db
def test_catalog_shows_anyone_only_approved_events_with_granted_credits(api, psychiatry):
    approved = EventFactory(approved=True, title="Съезд психиатров", credits_requested=6, credits_granted=5)
    for status in (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.REJECTED, Status.CHANGES_REQUESTED):
        EventFactory(status=status, title=f"Не показывать: {status}")

    data = api.get(EVENTS).json()

    assert data["count"] == 1
    [item] = data["results"]
    assert item["id"] == approved.pk
    assert item["title"] == "Съезд психиатров"
    assert item["credits"] == 5
    assert item["hours"] == 6
    assert item["organization"] == {
        "id": approved.organization.pk,
        "name": approved.organization.name,
        "short_name": approved.organization.short_name,
    }
    assert item["specialties"] == [{"code": "31.08.20", "name": "Психиатрия"}]
    assert item["format"] == "in_person"
    assert item["venue"] == "Москва, ул. Примерная, 1"
    assert item["starts_at"].endswith("+03:00")


@pytest.mark.django_db
def test_catalog_detail_shows_the_programme_of_an_approved_event_and_hides_others(api):
    approved = EventFactory(approved=True, programme="День 1: депрессия. День 2: тревога.")
    draft = EventFactory()

    response = api.get(reverse("api:api-events:catalog-event-detail", args=[approved.pk]))
    assert response.status_code == 200
    assert response.json()["programme"] == "День 1: депрессия. День 2: тревога."

    hidden = api.get(reverse("api:api-events:catalog-event-detail", args=[draft.pk]))
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_event_catalog_filters_by_specialty_code_format_and_provider(api, psychiatry, cardiology):
    society = OrganizationFactory()
    EventFactory(approved=True, title="Психиатрия очно", organization=society)
    EventFactory(
        approved=True,
        title="Кардиология онлайн",
        specialties=[cardiology],
        format=Event.Format.ONLINE,
        venue="",
        link="https://webinar.example.org/1",
    )
    EventFactory(
        approved=True,
        title="Психиатрия онлайн",
        format=Event.Format.ONLINE,
        venue="",
        link="https://webinar.example.org/2",
    )

    assert sorted(titles(api.get(EVENTS, {"specialty": "31.08.20"}))) == ["Психиатрия онлайн", "Психиатрия очно"]
    assert titles(api.get(EVENTS, {"specialty": "31.08.36"})) == ["Кардиология онлайн"]
    assert sorted(titles(api.get(EVENTS, {"format": "online"}))) == ["Кардиология онлайн", "Психиатрия онлайн"]
    assert titles(api.get(EVENTS, {"format": "online", "specialty": "31.08.20"})) == ["Психиатрия онлайн"]
    assert titles(api.get(EVENTS, {"provider": society.pk})) == ["Психиатрия очно"]


@pytest.mark.django_db
def test_event_catalog_finds_events_overlapping_the_dates(api):
    EventFactory(approved=True, title="Весенняя школа", starts_at=moscow(40), ends_at=moscow(43, 18))
    EventFactory(approved=True, title="Летний конгресс", starts_at=moscow(60), ends_at=moscow(61, 18))
    day = timezone.localdate()

    def between(start, end):
        return titles(
            api.get(
                EVENTS,
                {"date_from": (day + timedelta(start)).isoformat(), "date_to": (day + timedelta(end)).isoformat()},
            )
        )

    assert between(42, 50) == ["Весенняя школа"]  # starts before the period, ends inside it
    assert between(43, 60) == ["Весенняя школа", "Летний конгресс"]  # the last day and the first day count
    assert between(44, 59) == []
    assert titles(api.get(EVENTS, {"date_from": (day + timedelta(50)).isoformat()})) == ["Летний конгресс"]
    assert titles(api.get(EVENTS, {"date_to": (day + timedelta(50)).isoformat()})) == ["Весенняя школа"]


@pytest.mark.django_db
def test_event_catalog_searches_title_and_programme(api):
    EventFactory(approved=True, title="Школа по депрессии", programme="Лекции.")
    EventFactory(approved=True, title="Конгресс", programme="Секция: шизофрения и коморбидность.")

    assert titles(api.get(EVENTS, {"q": "депрессии"})) == ["Школа по депрессии"]
    assert titles(api.get(EVENTS, {"q": "шизофрения"})) == ["Конгресс"]
    assert titles(api.get(EVENTS, {"q": "онкология"})) == []


@pytest.mark.django_db
def test_catalog_refuses_filters_it_cannot_understand_with_a_json_error(api):
    bad_date = api.get(EVENTS, {"date_from": "31.12.2030"})
    assert bad_date.status_code == 400
    assert bad_date.json()["error"]["code"] == "invalid"
    assert "date_from" in bad_date.json()["error"]["fields"]

    assert "specialty" in api.get(EVENTS, {"specialty": "00.00.00"}).json()["error"]["fields"]
    assert "format" in api.get(EVENTS, {"format": "pdf"}).json()["error"]["fields"]
    backwards = api.get(MODULES, {"date_from": "2030-02-01", "date_to": "2030-01-01"})
    assert backwards.status_code == 400
    assert "date_to" in backwards.json()["error"]["fields"]


@pytest.mark.django_db
def test_module_catalog_shows_approved_modules_available_in_the_period(api, cardiology):
    day = timezone.localdate()
    ModuleFactory(
        approved=True,
        title="Модуль весной",
        available_from=day + timedelta(10),
        available_until=day + timedelta(20),
        link="https://learn.example.org/spring",
    )
    ModuleFactory(approved=True, title="Модуль для кардиологов", specialties=[cardiology])
    ModuleFactory(title="Черновик модуля")

    data = api.get(MODULES).json()
    assert sorted(item["title"] for item in data["results"]) == ["Модуль весной", "Модуль для кардиологов"]
    spring = next(item for item in data["results"] if item["title"] == "Модуль весной")
    assert spring["link"] == "https://learn.example.org/spring"
    assert spring["available_from"] == (day + timedelta(10)).isoformat()
    assert spring["annotation"] == "Интерактивный модуль с задачами."

    in_period = {"date_from": (day + timedelta(15)).isoformat(), "date_to": (day + timedelta(30)).isoformat()}
    assert sorted(titles(api.get(MODULES, in_period))) == ["Модуль весной", "Модуль для кардиологов"]
    later = {"date_from": (day + timedelta(21)).isoformat()}
    assert titles(api.get(MODULES, later)) == ["Модуль для кардиологов"]
    assert titles(api.get(MODULES, {"specialty": "31.08.20"})) == ["Модуль весной"]

    draft = Module.objects.get(status=Status.DRAFT)
    assert api.get(reverse("api:api-modules:catalog-module-detail", args=[draft.pk])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
def test_catalog_lists_take_the_same_queries_for_5_and_50_activities(
    api, rows, psychiatry, cardiology, django_assert_max_num_queries
):
    for _ in range(rows):
        organization = OrganizationFactory()
        EventFactory(approved=True, organization=organization, specialties=[psychiatry, cardiology])
        ModuleFactory(approved=True, organization=organization, specialties=[psychiatry, cardiology])

    # count, page, specialties; the specialty filter adds its own look-up
    with django_assert_max_num_queries(4):
        events = api.get(EVENTS, {"specialty": "31.08.36"})
    with django_assert_max_num_queries(4):
        modules = api.get(MODULES, {"specialty": "31.08.36"})
    assert events.json()["count"] == rows
    assert len(events.json()["results"]) == rows
    assert len(modules.json()["results"]) == rows
    assert len(events.json()["results"][0]["specialties"]) == 2
