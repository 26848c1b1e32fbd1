"""Where doctors meet the announcements: the home page and the plan show those of their specialties (a visitor sees
the newest of all), the public list filters by specialty, and each specialty has an Atom feed."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ..factories import AnnouncementFactory, DoctorProfileFactory, UserFactory, specialty

pytestmark = pytest.mark.django_db


def block_of(page: str) -> str:
    start = page.index('id="announcements"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def news():
    now = timezone.now()
    return {
        "psychiatry": AnnouncementFactory(title="Психиатрам: пленум", specialties=[specialty("31.08.20")]),
        "pinned": AnnouncementFactory(
            title="Психиатрам: закреплено",
            pinned=True,
            published_at=now - timedelta(days=5),
            specialties=[specialty("31.08.20")],
        ),
        "cardiology": AnnouncementFactory(title="Кардиологам: съезд", specialties=[specialty("31.08.36")]),
    }


def test_the_home_page_shows_a_doctor_the_announcements_of_their_specialties_pinned_first(client, doctor, news):
    client.force_login(doctor)
    block = block_of(client.get(reverse("home")).content.decode())

    assert block.index("Психиатрам: закреплено") < block.index("Психиатрам: пленум")
    assert "Кардиологам: съезд" not in block
    assert reverse("societies:digest") in block  # the way to the weekly digest


def test_a_visitor_and_a_person_without_specialties_see_the_newest_of_all(news):
    visitor = Client()
    block = block_of(visitor.get(reverse("home")).content.decode())
    assert block.index("Кардиологам: съезд") < block.index("Психиатрам: пленум") < block.index("Психиатрам: закреплено")
    assert reverse("societies:digest") not in block

    provider = Client()
    provider.force_login(UserFactory())
    assert "Кардиологам: съезд" in block_of(provider.get(reverse("home")).content.decode())


def test_the_plan_shows_the_announcements_of_the_doctors_specialties_fresh_beside_the_cached_plan(client, doctor, news):
    client.force_login(doctor)
    first = block_of(client.get(reverse("learning_plan:plan")).content.decode())
    assert "Психиатрам: пленум" in first
    assert "Кардиологам: съезд" not in first

    AnnouncementFactory(title="Психиатрам: свежее", pinned=True, specialties=[specialty("31.08.20")])
    again = block_of(client.get(reverse("learning_plan:plan")).content.decode())
    assert "Психиатрам: свежее" in again  # the plan's body is cached; the announcements are not


def test_a_doctor_with_no_news_is_told_so(client):
    doctor = DoctorProfileFactory(specialties=[specialty("31.08.24")]).user
    AnnouncementFactory(title="Психиатрам", specialties=[specialty("31.08.20")])
    client.force_login(doctor)
    block = block_of(client.get(reverse("home")).content.decode())
    assert "Психиатрам" not in block
    assert 'class="muted"' in block


def test_the_home_page_block_costs_the_same_few_queries_whatever_it_shows(
    client, doctor, django_assert_max_num_queries
):
    client.force_login(doctor)
    AnnouncementFactory()
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("home"))
    for _ in range(8):
        AnnouncementFactory(specialties=[specialty("31.08.20"), specialty("31.08.21")])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("home")).content.decode()
    assert block_of(page).count("data-announcement=") == 5


def test_the_public_list_filters_by_specialty_and_offers_its_feed(client, news):
    everything = client.get(reverse("societies:announcements")).content.decode()
    assert "Кардиологам: съезд" in everything
    assert "Психиатрам: пленум" in everything

    psychiatry = client.get(reverse("societies:announcements"), {"specialty": "31.08.20"}).content.decode()
    assert "Кардиологам: съезд" not in psychiatry
    assert "Психиатрам: пленум" in psychiatry
    assert reverse("societies:feed", args=["31.08.20"]) in psychiatry

    nonsense = client.get(reverse("societies:announcements"), {"specialty": "x" * 500})
    assert nonsense.status_code == 200


def test_the_atom_feed_lists_the_specialtys_published_announcements(client, news):
    response = client.get(reverse("societies:feed", args=["31.08.20"]))

    ns = {"atom": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.content)  # noqa: S314 - the portal's own feed
    titles = [entry.findtext("atom:title", namespaces=ns) for entry in feed.findall("atom:entry", ns)]
    assert titles == ["Психиатрам: пленум", "Психиатрам: закреплено"]  # newest first, as feed readers expect
    assert "31.08.20" in feed.findtext("atom:title", namespaces=ns)
    assert client.get(reverse("societies:feed", args=["00.00.00"])).status_code == 404


def test_the_public_list_and_the_feed_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for _ in range(25):
        AnnouncementFactory(specialties=[specialty("31.08.20"), specialty("31.08.21")])
    with django_assert_max_num_queries(6):
        page = client.get(reverse("societies:announcements"), {"specialty": "31.08.20"})
    assert page.content.decode().count("data-announcement=") == 20
    with django_assert_max_num_queries(4):
        feed = client.get(reverse("societies:feed", args=["31.08.20"]))
    assert feed.content.decode().count("<entry>") == 25
