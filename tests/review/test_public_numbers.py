"""An activity's public number (SPEC.md, "Activities and their review"): given at approval, unique across events
and modules, shown in the catalogue, on the activity's pages, on certificates and the check page, and searchable."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from codes.certificate_pdf import certificate_pdf
from codes.format import generate_codes
from codes.models import IcpCode
from events.models import Event
from review.models import PublicNumber, Status
from review.services import Decision, review_decide

from ..factories import EventFactory, MembershipFactory, ModuleFactory
from ..pdf import pdf_text

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^\d{4}-\d{6}$")


def in_review(factory, reviewer, **fields):
    return factory(organization=MembershipFactory().organization, status=Status.IN_REVIEW, reviewer=reviewer, **fields)


def approve(activity, reviewer):
    return review_decide(
        activity=activity, actor=reviewer, decision=Decision.APPROVE, credits=activity.credits_requested
    )


def test_an_approved_event_and_module_get_distinct_public_numbers(reviewer):
    event = approve(in_review(EventFactory, reviewer), reviewer)
    module = approve(in_review(ModuleFactory, reviewer), reviewer)

    event.refresh_from_db()
    module.refresh_from_db()
    assert NUMBER.match(event.public_number), event.public_number
    assert NUMBER.match(module.public_number), module.public_number
    assert event.public_number != module.public_number
    assert event.public_number.startswith(f"{timezone.localdate().year}-")
    assert sorted(PublicNumber.objects.values_list("number", flat=True)) == sorted(
        [event.public_number, module.public_number]
    )


def test_rejection_and_a_request_for_changes_give_no_number(reviewer):
    rejected = in_review(EventFactory, reviewer)
    review_decide(activity=rejected, actor=reviewer, decision=Decision.REJECT, comment="Не по специальности.")
    returned = in_review(ModuleFactory, reviewer)
    review_decide(activity=returned, actor=reviewer, decision=Decision.CHANGES, comment="Уточните аннотацию.")

    rejected.refresh_from_db()
    returned.refresh_from_db()
    assert (rejected.public_number, returned.public_number) == (None, None)
    assert not PublicNumber.objects.exists()


def test_the_database_refuses_a_number_given_twice(reviewer):
    event = approve(in_review(EventFactory, reviewer), reviewer)
    other = EventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=other.pk).update(public_number=event.public_number)


def test_the_catalogue_finds_an_activity_by_its_exact_number_and_shows_it(client, reviewer):
    wanted = approve(in_review(EventFactory, reviewer), reviewer)
    other = approve(in_review(EventFactory, reviewer), reviewer)
    module = approve(in_review(ModuleFactory, reviewer), reviewer)

    api = client.get("/api/v1/catalog/events/", {"q": wanted.public_number}).json()["results"]
    assert [(row["id"], row["public_number"]) for row in api] == [(wanted.pk, wanted.public_number)]
    page = client.get(reverse("events:catalog"), {"q": wanted.public_number}).content.decode()
    assert wanted.title in page
    assert wanted.public_number in page
    assert other.title not in page
    # as people type it: without the zeros, with a «№»
    year, serial = wanted.public_number.split("-")
    short = client.get("/api/v1/catalog/events/", {"q": f"№ {year}-{int(serial)}"}).json()["results"]
    assert [row["id"] for row in short] == [wanted.pk]
    # a module's number finds the module, and no event
    modules = client.get("/api/v1/catalog/modules/", {"q": module.public_number}).json()["results"]
    assert [(row["id"], row["public_number"]) for row in modules] == [(module.pk, module.public_number)]
    assert client.get("/api/v1/catalog/events/", {"q": module.public_number}).json()["results"] == []
    module_page = client.get(reverse("modules:catalog"), {"q": module.public_number}).content.decode()
    assert module.title in module_page


def test_the_activity_pages_show_the_number(client, reviewer):
    event = approve(in_review(EventFactory, reviewer), reviewer)
    module = approve(in_review(ModuleFactory, reviewer), reviewer)

    assert event.public_number in client.get(reverse("events:catalog_detail", args=[event.pk])).content.decode()
    assert module.public_number in client.get(reverse("modules:catalog_detail", args=[module.pk])).content.decode()
    provider = event.organization.memberships.get().user
    client.force_login(provider)
    assert event.public_number in client.get(reverse("events:detail", args=[event.pk])).content.decode()
    api = client.get(f"/api/v1/events/{event.pk}/").json()
    assert api["public_number"] == event.public_number


def test_the_certificate_and_its_check_page_show_the_events_number(client, reviewer, tmp_path):
    ends = timezone.now() + timedelta(days=45)
    event = approve(in_review(EventFactory, reviewer, starts_at=ends - timedelta(hours=8), ends_at=ends), reviewer)
    code = IcpCode.objects.create(code=generate_codes(1)[0], event=event, holder_name="Петрова Мария")
    code = IcpCode.objects.select_related("event__organization").get(pk=code.pk)

    text = pdf_text(certificate_pdf([code], compress=False), tmp_path)
    assert "Номер мероприятия" in text
    assert event.public_number in text

    page = client.get(reverse("codes:verify", args=[code.verify_token])).content.decode()
    assert event.public_number in page
