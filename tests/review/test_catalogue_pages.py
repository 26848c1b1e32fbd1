"""The catalogue's pages at the scale of a country (issue 18): a list is counted up to a thousand rows, so a long
one says "more than 1,000 found" and "page 3" instead of "page 3 of 2,900", and still pages forward and back, every
page reachable by its number; the provider filter is typed (or picked from suggestions), not a list of 3,000
providers, and a link of the former list (`?provider=<id>`) still shows that provider's activities."""

import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from nmo_portal import paging
from review import selectors, views

from ..factories import EventFactory, ModuleFactory, OrganizationFactory, moscow

pytestmark = pytest.mark.django_db


def catalogue(client, kind="events", **query):
    return client.get(reverse(f"{kind}:catalog"), query).content.decode()


def shown(page):
    """The titles of the page's activities, in order."""
    return re.findall(r'<h2><a href="/catalog/\w+/\d+/">([^<]+)</a></h2>', page)


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 activities, counted up to 3: the behaviour of a thousand-row cap on a few rows."""
    monkeypatch.setattr(views, "CATALOG_PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_CAP", 3)


@pytest.fixture
def nine_events():
    organization = OrganizationFactory()
    return [
        EventFactory(approved=True, organization=organization, title=f"Школа {n}", starts_at=moscow(10 + n))
        for n in range(1, 10)
    ]


def test_a_short_list_is_counted_and_paged_exactly(client, small_pages):
    organization = OrganizationFactory()
    for n in range(1, 4):
        EventFactory(approved=True, organization=organization, title=f"Школа {n}", starts_at=moscow(10 + n))
    first = catalogue(client)
    assert "Найдено: 3" in first
    assert "Страница 1 из 2" in first
    assert shown(first) == ["Школа 1", "Школа 2"]
    second = catalogue(client, page=2)
    assert "Страница 2 из 2" in second
    assert shown(second) == ["Школа 3"]
    assert "Вперёд" not in second
    assert 'href="?page=1"' in second  # back to the first page


def test_a_long_list_says_more_than_the_cap_and_pages_on_to_its_end(client, small_pages, nine_events):
    first = catalogue(client)
    assert "Найдено больше 3" in first
    assert "Страница 1" in first
    assert " из " not in first  # no "of N": the list was not counted to its end
    assert 'href="?page=2" rel="next"' in first

    seen = []
    for number in range(1, 6):
        page = catalogue(client, page=number)
        seen += shown(page)
        assert f"Страница {number}" in page
        assert ('rel="next"' in page) == (number < 5)
        assert ('rel="prev"' in page) == (number > 1)
    assert seen == [event.title for event in nine_events]  # every event once, in the order of their start


def test_a_page_past_the_end_shows_the_last_page(client, small_pages, nine_events):
    for number in ("6", "1000", "99999999999999999999"):
        page = catalogue(client, page=number)
        assert shown(page) == ["Школа 9"]
        assert "Страница 5" in page
    assert shown(catalogue(client, page="abc")) == ["Школа 1", "Школа 2"]


def test_the_filters_are_kept_from_page_to_page(client, small_pages, nine_events, cardiology):
    for event in nine_events[::2]:
        event.specialties.add(cardiology)
    first = catalogue(client, specialty="31.08.36")
    assert "Найдено больше 3" in first
    assert 'href="?specialty=31.08.36&page=2" rel="next"' in first
    seen = shown(first) + shown(catalogue(client, specialty="31.08.36", page=2))
    seen += shown(catalogue(client, specialty="31.08.36", page=3))
    assert seen == ["Школа 1", "Школа 3", "Школа 5", "Школа 7", "Школа 9"]


def test_the_modules_catalogue_is_paged_alike(client, small_pages):
    for n in range(1, 6):
        ModuleFactory(approved=True, title=f"Модуль {n}")
    page = catalogue(client, "modules", page=3)
    assert "Найдено больше 3" in page
    assert shown(page) == ["Модуль 5"]


# The provider filter.


def test_the_page_is_not_sent_every_providers_name(client):
    OrganizationFactory(name="Кардиологический центр", short_name="")
    EventFactory(approved=True, title="Школа")
    page = catalogue(client)
    assert "Кардиологический центр" not in page  # no list of every provider: it is asked as the person types
    assert '<label for="id_provider">Провайдер</label>' in page
    assert 'list="id_provider_suggestions"' in page
    assert '<datalist id="id_provider_suggestions"></datalist>' in page
    assert 'aria-describedby="id_provider_helptext"' in page


def test_a_bookmarked_provider_id_still_filters_and_shows_the_providers_name(client):
    chosen = OrganizationFactory(name="Общество психиатров", short_name="")
    EventFactory(approved=True, title="Школа общества", organization=chosen)
    EventFactory(approved=True, title="Чужая школа")

    page = catalogue(client, provider=chosen.pk)
    assert shown(page) == ["Школа общества"]
    # The box shows the name, so that sending the form again keeps the same provider.
    assert 'name="provider" value="Общество психиатров"' in page
    assert shown(catalogue(client, provider="Общество психиатров")) == ["Школа общества"]


def test_a_typed_name_finds_the_providers_that_contain_it_and_a_picked_one_alone(client):
    first = OrganizationFactory(name="ГКБ № 1 имени Пирогова", short_name="ГКБ № 1")
    fifteenth = OrganizationFactory(name="ГКБ № 15 имени Филатова", short_name="ГКБ № 15")
    EventFactory(approved=True, title="Школа Пироговки", organization=first, starts_at=moscow(10))
    EventFactory(approved=True, title="Школа Филатовки", organization=fifteenth, starts_at=moscow(11))
    EventFactory(approved=True, title="Чужая школа", starts_at=moscow(12))

    assert shown(catalogue(client, provider="гкб")) == ["Школа Пироговки", "Школа Филатовки"]  # any case
    assert shown(catalogue(client, provider="ГКБ № 1")) == ["Школа Пироговки"]  # a short name, exactly
    assert shown(catalogue(client, provider="ГКБ № 15 имени Филатова")) == ["Школа Филатовки"]
    assert shown(catalogue(client, provider="филатов")) == ["Школа Филатовки"]
    assert shown(catalogue(client, "modules", provider="гкб")) == []


def test_a_name_no_provider_has_finds_nothing_and_an_unknown_id_is_ignored(client):
    EventFactory(approved=True, title="Школа")
    page = catalogue(client, provider="Несуществующий центр")
    assert shown(page) == []
    assert "По этим фильтрам ничего не найдено." in page
    page = catalogue(client, provider="999999")
    assert shown(page) == ["Школа"]  # as the list of providers ignored an id it did not have
    assert "Такого провайдера нет." in page


def test_an_unverified_provider_is_neither_found_nor_suggested(client):
    pending = OrganizationFactory(name="Центр на проверке", short_name="", status="pending")
    EventFactory(approved=True, title="Школа", organization=pending)
    assert shown(catalogue(client, provider=pending.pk)) == ["Школа"]  # ignored, as before
    assert shown(catalogue(client, provider="на проверке")) == []
    assert client.get(reverse("review:catalog_providers"), {"q": "проверке"}).json() == {"providers": []}


def test_the_suggestions_are_the_first_names_that_contain_the_text(client):
    for n in range(20):
        OrganizationFactory(name=f"Областная больница №{n:02d}", short_name=f"ОБ-{n:02d}")
    OrganizationFactory(name="Кардиологический центр", short_name="")
    response = client.get(reverse("review:catalog_providers"), {"q": "больница"})
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"]
    providers = response.json()["providers"]
    assert len(providers) == 15
    assert providers[0] == {"name": "Областная больница №00", "short_name": "ОБ-00"}
    assert client.get(reverse("review:catalog_providers"), {"q": "КАРДИО"}).json()["providers"] == [
        {"name": "Кардиологический центр", "short_name": ""}
    ]
    assert client.get(reverse("review:catalog_providers")).json() == {"providers": []}


def test_without_postgresql_a_name_is_matched_in_any_case(monkeypatch):
    """SQLite (`make run`) folds the case of ASCII letters only: its few providers are matched in Python."""
    first = OrganizationFactory(name="ГКБ № 1 имени Пирогова", short_name="ГКБ № 1")
    fifteenth = OrganizationFactory(name="ГКБ № 15 имени Филатова", short_name="")
    monkeypatch.setattr(selectors, "connection", SimpleNamespace(vendor="sqlite"))
    assert selectors.providers_named("гкб") == [first.pk, fifteenth.pk]
    assert selectors.providers_named("гкб № 1") == [first.pk]
    assert selectors.providers_named("ФИЛАТОВА") == [fifteenth.pk]
    assert [row[1] for row in selectors.providers_containing("гкб", limit=1)] == [first.name]
