"""Events and modules in the admin: what the experts judged and doctors are credited for stays as judged."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from events.models import Event
from review.models import Status

from ..factories import EventFactory, ModuleFactory

pytestmark = pytest.mark.django_db


def event_form(event, **changes):
    """The event's change form as the admin posts it, with `changes`."""
    later = event.starts_at + timedelta(days=3)
    data = {
        "title": event.title,
        "programme": event.programme,
        "format": event.format,
        "venue": event.venue,
        "link": event.link,
        "organization": event.organization_id,
        "specialties": [s.pk for s in event.specialties.all()],
        "hours": event.hours,
        "credits_requested": event.credits_requested,
        "starts_at_0": later.date().isoformat(),
        "starts_at_1": "10:00:00",
        "ends_at_0": later.date().isoformat(),
        "ends_at_1": "18:00:00",
        "timezone": event.timezone,
        "status": Status.DRAFT,
        "credits_granted": 1,
        "transitions-TOTAL_FORMS": 0,
        "transitions-INITIAL_FORMS": 0,
    }
    return data | changes


@pytest.mark.parametrize("status", [Status.APPROVED, Status.SUBMITTED, Status.IN_REVIEW])
def test_an_events_dates_hours_credits_and_status_cannot_be_changed_in_the_admin(client, staff, status):
    event = EventFactory(approved=True, hours=8, credits_requested=6)
    Event.objects.filter(pk=event.pk).update(status=status)
    event.refresh_from_db()
    before = (event.starts_at, event.ends_at, event.hours, event.credits_requested, event.credits_granted, event.status)
    client.force_login(staff)
    change = reverse("admin:events_event_change", args=[event.pk])
    response = client.post(change, event_form(event, title="Исправленное название", hours=20, credits_requested=12))
    assert response.status_code == 302
    event.refresh_from_db()
    after = (event.starts_at, event.ends_at, event.hours, event.credits_requested, event.credits_granted, event.status)
    assert after == before
    assert event.title == "Исправленное название"  # a correction the admin allows, and audits
    audit = AuditEvent.objects.get(action="events.event.admin_change", object_id=str(event.pk))
    assert (audit.actor, audit.details["fields"]) == (staff, ["title"])


def test_a_drafts_dates_may_be_corrected_in_the_admin_with_an_audit_row(client, staff):
    event = EventFactory(hours=8, credits_requested=6)
    client.force_login(staff)
    response = client.post(reverse("admin:events_event_change", args=[event.pk]), event_form(event, hours=9))
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.hours, event.status) == (9, Status.DRAFT)
    audit = AuditEvent.objects.get(action="events.event.admin_change", object_id=str(event.pk))
    assert {"hours", "starts_at", "ends_at"} <= set(audit.details["fields"])


def test_the_admin_reads_a_drafts_times_in_the_events_own_zone(client, staff):
    event = EventFactory(timezone="Asia/Vladivostok")
    client.force_login(staff)
    response = client.post(reverse("admin:events_event_change", args=[event.pk]), event_form(event))
    assert response.status_code == 302
    event.refresh_from_db()
    # 10:00 typed for a Vladivostok event is 03:00 in Moscow and 00:00 UTC, whoever types it
    assert (event.starts_at.astimezone(UTC).hour, event.ends_at.astimezone(UTC).hour) == (0, 8)


def test_an_approved_modules_window_hours_and_credits_cannot_be_changed_in_the_admin(client, staff):
    module = ModuleFactory(approved=True)
    client.force_login(staff)
    data = {
        "title": module.title,
        "annotation": module.annotation,
        "link": module.link,
        "organization": module.organization_id,
        "hours": 50,
        "credits_requested": 40,
        "available_from": "2020-01-01",
        "available_until": "2030-01-01",
        "transitions-TOTAL_FORMS": 0,
        "transitions-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:modules_module_change", args=[module.pk]), data)
    assert response.status_code == 302
    before = (module.available_from, module.available_until, module.hours, module.credits_requested)
    module.refresh_from_db()
    assert (module.available_from, module.available_until, module.hours, module.credits_requested) == before


def test_activities_are_not_added_in_the_admin_and_only_drafts_are_deleted(client, staff):
    approved, draft = EventFactory(approved=True), EventFactory()
    client.force_login(staff)
    assert client.get(reverse("admin:events_event_add")).status_code == 403
    assert client.post(reverse("admin:events_event_delete", args=[approved.pk]), {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=approved.pk).exists()
    assert client.post(reverse("admin:events_event_delete", args=[draft.pk]), {"post": "yes"}).status_code == 302
    assert not Event.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="events.event.admin_delete", object_id=str(draft.pk)).exists()
