"""Who sees which page of the review workflow, and what the pages do. Anything not allowed is a 404 (the
activity or organization is not shown to exist), except where the person is known to be refused (403)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from events.models import Event
from review import services
from review.models import Status

from ..factories import (
    EventFactory,
    MembershipFactory,
    ModuleFactory,
    ReviewerAppointmentFactory,
    StaffFactory,
    UserFactory,
    moscow,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(psychiatry):
    """An organization with an event in review and a module draft, and one person of every kind."""
    owner = MembershipFactory(role=Membership.Role.ADMIN)
    organization = owner.organization
    other_provider = MembershipFactory().user
    assigned = ReviewerAppointmentFactory(specialty=psychiatry).user
    event = services.activity_submit(activity=EventFactory(organization=organization), actor=owner.user)
    assert event.reviewer == assigned
    other_reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user
    insider_reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user
    Membership.objects.create(organization=organization, user=insider_reviewer, role=Membership.Role.MEMBER)
    people = {
        "anonymous": None,
        "doctor": UserFactory(),
        "owner": owner.user,
        "other_provider": other_provider,
        "assigned_reviewer": assigned,
        "other_reviewer": other_reviewer,
        "insider_reviewer": insider_reviewer,
        "staff": StaffFactory(),
    }
    return {"organization": organization, "event": event, "module": ModuleFactory(organization=organization), **people}


# page name → who gets 200; everyone else signed in is refused (`refusal`), anonymous visitors go to sign in
MATRIX = {
    "events:detail": {"owner", "insider_reviewer", "staff"},
    "modules:detail": {"owner", "insider_reviewer", "staff"},
    "events:create": {"owner", "insider_reviewer"},
    "modules:create": {"owner", "insider_reviewer"},
    "modules:edit": {"owner", "insider_reviewer"},
    "review:activities": {"owner", "insider_reviewer", "staff"},
    "review:case": {"assigned_reviewer", "staff"},
    "review:queue": {"assigned_reviewer", "other_reviewer", "insider_reviewer"},
}


def refusal(page, who):
    """The status a signed-in person outside MATRIX[page] gets."""
    if page == "review:queue":
        return 403  # the queue hides nothing: the person is simply not an active reviewer
    if who == "staff":
        return 403  # staff may look at everything, but only members write
    return 404  # an outsider is not told that the activity or organization exists


def url_for(name, world):
    organization, event, module = world["organization"], world["event"], world["module"]
    args = {
        "events:detail": [event.pk],
        "modules:detail": [module.pk],
        "events:create": [organization.pk],
        "modules:create": [organization.pk],
        "modules:edit": [module.pk],
        "review:activities": [organization.pk],
        "review:case": ["event", event.pk],
        "review:queue": [],
    }[name]
    return reverse(name, args=args)


@pytest.mark.parametrize("page", list(MATRIX))
@pytest.mark.parametrize(
    "who",
    [
        "anonymous",
        "doctor",
        "owner",
        "other_provider",
        "assigned_reviewer",
        "other_reviewer",
        "insider_reviewer",
        "staff",
    ],
)
def test_page_permission_matrix(client, world, page, who):
    if world[who] is not None:
        client.force_login(world[who])
    response = client.get(url_for(page, world))
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif who in MATRIX[page]:
        assert response.status_code == 200
    else:
        assert response.status_code == refusal(page, who)


@pytest.mark.parametrize("who", ["doctor", "other_provider", "assigned_reviewer", "other_reviewer", "staff"])
def test_only_members_submit_or_withdraw(client, world, who):
    event = world["event"]
    client.force_login(world[who])
    client.post(reverse("events:withdraw", args=[event.pk]))
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW


@pytest.mark.parametrize("who", ["doctor", "owner", "other_reviewer", "insider_reviewer", "staff"])
def test_only_the_assigned_reviewer_posts_a_decision(client, world, who):
    event = world["event"]
    client.force_login(world[who])
    response = client.post(reverse("review:case", args=["event", event.pk]), {"decision": "approve", "credits": 6})
    # staff may open the case but not decide it; to anyone else the case does not exist
    assert response.status_code == (403 if who == "staff" else 404)
    event.refresh_from_db()
    assert event.status == Status.IN_REVIEW


def test_provider_creates_a_draft_with_clear_messages_for_bad_input(client, psychiatry):
    owner = MembershipFactory()
    client.force_login(owner.user)
    url = reverse("events:create", args=[owner.organization.pk])
    bad = {
        "title": "Школа психиатра",
        "programme": "Лекции",
        "format": "online",
        "venue": "",
        "link": "",
        "starts_at": "2027-03-10T10:00",
        "ends_at": "2027-03-10T09:00",
        "hours": "0",
        "credits_requested": "3",
    }
    response = client.post(url, bad)
    page = response.content.decode()
    assert response.status_code == 400
    assert not Event.objects.exists()
    for message in ("Укажите ссылку", "специальност"):
        assert message in page, message

    good = {
        **bad,
        "link": "https://school.example.org",
        "ends_at": "2027-03-10T17:00",
        "hours": "6",
        "specialties": [psychiatry.pk],
    }
    response = client.post(url, good)
    event = Event.objects.get()
    assert response.status_code == 302
    assert event.status == Status.DRAFT
    assert event.created_by == owner.user
    assert list(event.specialties.all()) == [psychiatry]


def test_provider_submits_from_the_page_and_sees_the_timeline(
    client, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    owner = MembershipFactory()
    event = EventFactory(organization=owner.organization, starts_at=moscow(50), ends_at=moscow(50, 18))
    client.force_login(owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("events:submit", args=[event.pk]), follow=True)
    page = response.content.decode()
    assert "Отправлено на экспертизу" in page
    assert "На экспертизе" in page
    assert [m.to for m in mailoutbox] == [[reviewer.email]]
    # a second click meets the moved-on status and says so
    response = client.post(reverse("events:submit", args=[event.pk]), follow=True)
    assert "нельзя отправить" in response.content.decode()


def test_reviewer_approves_from_the_case_page_and_the_event_enters_the_catalogue(client, reviewer):
    owner = MembershipFactory()
    event = services.activity_submit(
        activity=EventFactory(organization=owner.organization, hours=8, credits_requested=6), actor=owner.user
    )
    client.force_login(reviewer)
    url = reverse("review:case", args=["event", event.pk])
    response = client.post(url, {"decision": "approve", "credits": 7, "comment": ""})
    assert response.status_code == 400
    assert "не более" in response.content.decode()
    response = client.post(url, {"decision": "approve", "credits": 5, "comment": "Хорошая программа"})
    assert response.status_code == 302
    catalog = client.get(reverse("events:catalog")).content.decode()
    assert event.title in catalog
    assert "5 кредитов" in catalog


def test_catalogue_shows_only_approved_activities_and_filters_them(client, cardiology):
    shown = EventFactory(approved=True, title="Психофармакология сегодня")
    EventFactory(title="Черновик не для каталога")
    EventFactory(approved=True, title="Кардиология завтра", specialties=[cardiology])
    page = client.get(reverse("events:catalog")).content.decode()
    assert shown.title in page
    assert "Черновик" not in page
    page = client.get(reverse("events:catalog"), {"specialty": "31.08.36"}).content.decode()
    assert "Кардиология завтра" in page
    assert shown.title not in page
    page = client.get(reverse("events:catalog"), {"q": "психофармакология"}).content.decode()
    assert shown.title in page
    assert "Кардиология завтра" not in page
    assert client.get(reverse("events:catalog_detail", args=[shown.pk])).status_code == 200
    draft = EventFactory()
    assert client.get(reverse("events:catalog_detail", args=[draft.pk])).status_code == 404
    modules = client.get(reverse("modules:catalog")).content.decode()
    assert "Конференция" not in modules


@pytest.mark.parametrize("count", [5, 50])
def test_catalogue_keeps_a_constant_number_of_queries(
    client, count, django_assert_max_num_queries, psychiatry, cardiology
):
    for _ in range(count):
        EventFactory(approved=True, specialties=[psychiatry, cardiology])
        ModuleFactory(approved=True, specialties=[psychiatry, cardiology])
    with django_assert_max_num_queries(8):
        assert client.get(reverse("events:catalog")).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("modules:catalog")).status_code == 200


@pytest.mark.parametrize("count", [5, 50])
def test_reviewer_queue_keeps_a_constant_number_of_queries(
    client, count, django_assert_max_num_queries, reviewer, psychiatry, cardiology
):
    for n in range(count):
        factory = EventFactory if n % 2 else ModuleFactory
        factory(
            status=Status.IN_REVIEW,
            reviewer=reviewer,
            due_at=timezone.now() + timedelta(days=n - 3, hours=1),
            specialties=[psychiatry, cardiology],
        )
    client.force_login(reviewer)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("review:queue"))
    assert response.status_code == 200
    assert response.content.decode().count("row-overdue") == 3  # the deadlines already past are marked
