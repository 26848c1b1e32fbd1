"""GET /api/v1/announcements/: anyone reads the published announcements, of one specialty if asked, pinned first,
then newest, a page at a time, as the schema says."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from ..factories import AnnouncementFactory, specialty

pytestmark = pytest.mark.django_db

URL = "/api/v1/announcements/"


@pytest.fixture
def api():
    return APIClient()


def titles(response):
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def test_anyone_reads_published_announcements_pinned_first_then_newest(api):
    now = timezone.now()
    AnnouncementFactory(title="Старое", published_at=now - timedelta(days=3))
    AnnouncementFactory(title="Новое", published_at=now - timedelta(hours=1))
    AnnouncementFactory(title="Закреплённое старое", published_at=now - timedelta(days=10), pinned=True)
    AnnouncementFactory(title="Отозванное", published_at=now - timedelta(hours=2), withdrawn_at=now)
    AnnouncementFactory(title="Запланированное", published_at=now + timedelta(days=1))

    response = api.get(URL)

    assert titles(response) == ["Закреплённое старое", "Новое", "Старое"]
    first = response.json()["results"][0]
    assert set(first) == {"id", "society", "title", "body", "body_html", "specialties", "published_at", "pinned", "url"}
    assert first["specialties"] == [{"code": "31.08.20", "name": "Психиатрия"}]
    assert first["url"] == f"http://testserver{reverse('societies:announcement', args=[first['id']])}"
    assert first["pinned"] is True


def test_the_specialty_filter_keeps_that_specialtys_announcements(api):
    AnnouncementFactory(title="Психиатрия", specialties=[specialty("31.08.20")])
    AnnouncementFactory(title="Обе", specialties=[specialty("31.08.20"), specialty("31.08.21")])
    AnnouncementFactory(title="Наркология", specialties=[specialty("31.08.21")])

    assert sorted(titles(api.get(URL, {"specialty": "31.08.21"}))) == ["Наркология", "Обе"]
    assert sorted(titles(api.get(URL, {"specialty": "31.08.20"}))) == ["Обе", "Психиатрия"]
    assert titles(api.get(URL, {"specialty": "31.08.36"})) == []


def test_an_unknown_specialty_is_a_400_not_an_unfiltered_list(api):
    AnnouncementFactory()
    response = api.get(URL, {"specialty": "00.00.00"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_the_list_is_paginated_like_the_catalogue_in_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    for n in range(55):
        AnnouncementFactory(title=f"Объявление {n:02d}", published_at=timezone.now() - timedelta(minutes=n))
    with django_assert_max_num_queries(4):
        first = api.get(URL).json()
    assert (first["count"], len(first["results"])) == (55, 50)
    assert first["next"].endswith("?page=2")
    second = api.get(URL, {"page": 2}).json()
    assert [item["title"] for item in second["results"]] == [f"Объявление {n:02d}" for n in range(50, 55)]
    assert api.get(URL, {"page": 3}).status_code == 404


def test_the_schema_documents_the_operation_and_its_filter(api):
    schema = api.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/announcements/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"page", "specialty"}
    assert "400" in operation["responses"]
    assert "403" not in operation["responses"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert page.endswith("PaginatedAnnouncementList")
