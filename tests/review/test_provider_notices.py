"""What a provider is told before and after a review: the expert's request for changes on top of the activity's
page, and the submission rules on the event form."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from accounts.models import Membership
from review import services

from ..factories import EventFactory, MembershipFactory, ReviewerAppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(role=Membership.Role.ADMIN).user


def test_the_experts_request_for_changes_opens_the_activity_page(client, owner, psychiatry):
    reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user
    organization = owner.memberships.get().organization
    event = services.activity_submit(activity=EventFactory(organization=organization), actor=owner)
    services.review_decide(activity=event, actor=reviewer, decision="changes", comment="Уточните программу второго дня")
    client.force_login(owner)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    notice = page.index("data-changes-requested")
    assert page.index("Уточните программу второго дня") > notice
    assert notice < page.index("История экспертизы")
    assert "Эксперт просит доработать:" in page

    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "The expert asks for changes:" in client.get(reverse("events:detail", args=[event.pk])).content.decode()


def test_no_request_for_changes_is_shown_once_the_event_is_submitted_again(client, owner, psychiatry):
    reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user
    organization = owner.memberships.get().organization
    event = services.activity_submit(activity=EventFactory(organization=organization), actor=owner)
    services.review_decide(activity=event, actor=reviewer, decision="changes", comment="Уточните программу")
    event.refresh_from_db()
    services.activity_submit(activity=event, actor=owner)
    client.force_login(owner)

    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()

    assert "data-changes-requested" not in page
    assert "Уточните программу" in page  # still in the history


def test_the_event_form_states_the_30_day_rule_before_submission(client, owner):
    organization = owner.memberships.get().organization
    client.force_login(owner)

    ru = client.get(reverse("events:create", args=[organization.pk])).content.decode()
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get(reverse("events:create", args=[organization.pk])).content.decode()

    assert "не позднее чем за 30 дней до его начала" in ru
    assert "at least 30 days before it starts" in en
