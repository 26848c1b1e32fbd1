"""The learning plan's counting, as a doctor reads it in the cabinet."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from codes import services as codes_services
from credits import services as credits_services
from credits.models import CreditEntry
from learning_plan import services
from learning_plan.models import Cycle, CycleRule
from learning_plan.selectors import learning_plan
from nmo_portal.errors import PortalError

from ..factories import EventFactory, ModuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cycle(doctor, psychiatry):
    return services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2024, 1, 15))


def credit(doctor, activity, hours, on):
    return credits_services.ledger_append(
        doctor=doctor,
        kind="credit",
        source="code" if activity.kind == "event" else "module_completion",
        credits=hours,
        earned_on=on,
        actor=None,
        activity=activity,
    )


def components(doctor):
    (plan,) = learning_plan(doctor=doctor).cycles
    return plan, {c.component.counts: c for c in plan.components}


def test_a_cycle_is_five_years_under_the_default_rule(cycle):
    assert cycle.ends_on == date(2029, 1, 14)
    assert cycle.rule == CycleRule.objects.get(is_default=True)
    assert cycle.rule.total_hours == 144


def test_16_event_hours_and_20_module_hours_fill_the_nmo_block(doctor, cycle, psychiatry):
    credit(doctor, EventFactory(approved=True, hours=16, credits_requested=16), 16, date(2024, 3, 1))
    credit(doctor, ModuleFactory(approved=True, hours=20, credits_requested=20), 20, date(2024, 4, 1))
    plan, parts = components(doctor)
    assert (parts["nmo"].earned, parts["nmo"].required) == (36, 36)
    assert parts["nmo"].done
    assert (parts["events"].earned, parts["modules"].earned) == (16, 20)
    assert plan.counted == 36
    assert plan.remaining == 108  # the programme block is still empty


def test_ten_more_event_hours_are_shown_above_target(doctor, cycle, client):
    credit(doctor, EventFactory(approved=True, hours=16, credits_requested=16), 16, date(2024, 3, 1))
    credit(doctor, ModuleFactory(approved=True, hours=20, credits_requested=20), 20, date(2024, 4, 1))
    credit(doctor, EventFactory(approved=True, hours=10, credits_requested=10), 10, date(2024, 5, 1))
    plan, parts = components(doctor)
    assert parts["nmo"].earned == 46
    assert parts["nmo"].above == 10
    assert parts["events"].above == 10
    assert plan.counted == 36  # above-target hours do not fill other blocks
    client.force_login(doctor)
    page = client.get(reverse("learning_plan:plan")).content.decode()
    assert "+10" in page


def test_an_item_earned_the_day_after_a_cycle_ends_counts_in_the_next(doctor, cycle, psychiatry):
    following = services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=cycle.ends_on + timedelta(days=1))
    credit(doctor, EventFactory(approved=True, hours=6, credits_requested=6), 6, cycle.ends_on)
    credit(doctor, EventFactory(approved=True, hours=5, credits_requested=5), 5, cycle.ends_on + timedelta(days=1))
    first, second = learning_plan(doctor=doctor).cycles
    assert first.cycle == cycle
    assert second.cycle == following
    assert [r.credits for r in first.records] == [6]
    assert [r.credits for r in second.records] == [5]


def test_overlapping_cycles_of_one_specialty_are_refused(doctor, cycle, psychiatry):
    with pytest.raises(PortalError) as info:
        services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=date(2026, 1, 1))
    assert info.value.code == "cycle_overlaps"
    assert Cycle.objects.filter(doctor=doctor).count() == 1


def test_an_activity_of_another_specialty_is_shown_as_not_counted(doctor, cycle, cardiology, client):
    event = EventFactory(approved=True, specialties=[cardiology], title="Школа кардиолога")
    credit(doctor, event, 6, date(2024, 6, 1))
    plan = learning_plan(doctor=doctor)
    assert plan.cycles[0].records == []
    (record,) = plan.not_counted
    assert record.title == "Школа кардиолога"
    assert "специальност" in record.not_counted_reason.lower()
    client.force_login(doctor)
    page = client.get(reverse("learning_plan:plan")).content.decode()
    assert "Школа кардиолога" in page
    assert 'id="not-counted"' in page


def test_a_reversal_removes_the_hours_it_added(doctor, cycle, staff, ended_event_factory):
    event, code = ended_event_factory()
    codes_services.code_activate(user=doctor, raw=code.code, ip=None)
    _plan, parts = components(doctor)
    assert parts["events"].earned == event.credits_granted
    codes_services.code_revoke(code=code, actor=staff, reason="Выдан по ошибке")
    plan, parts = components(doctor)
    assert parts["events"].earned == 0
    assert plan.records == []
    assert CreditEntry.objects.filter(doctor=doctor).count() == 2  # the ledger keeps both rows


def test_programme_entries_fill_the_programme_block(doctor, cycle, psychiatry):
    services.programme_add(
        doctor=doctor,
        specialty=psychiatry,
        name="Психиатрия: актуальные вопросы",
        organization="РМАНПО",
        hours=72,
        starts_on=date(2025, 2, 1),
        ends_on=date(2025, 2, 28),
        document_number="ПК 123456",
    )
    _plan, parts = components(doctor)
    assert parts["programme"].earned == 72
    assert parts["programme"].required == 108


def test_planned_activities_show_planned_and_done(doctor, cycle):
    done = EventFactory(approved=True)
    waiting = ModuleFactory(approved=True)
    services.plan_add(doctor=doctor, event=done)
    services.plan_add(doctor=doctor, module=waiting)
    credit(doctor, done, 6, date(2024, 7, 1))
    planned = {p.activity.pk: p.done for p in learning_plan(doctor=doctor).planned}
    assert planned == {done.pk: True, waiting.pk: False}
    with pytest.raises(PortalError):
        services.plan_add(doctor=doctor, event=EventFactory())  # a draft is not in the catalogue


def test_plan_api_lists_cycles_components_and_records(client, doctor, cycle, cardiology):
    credit(doctor, EventFactory(approved=True, hours=16, credits_requested=16), 16, date(2024, 3, 1))
    credit(doctor, EventFactory(approved=True, specialties=[cardiology]), 6, date(2024, 3, 2))
    client.force_login(doctor)
    data = client.get(reverse("api:api-learning_plan:plan")).json()
    (only,) = data["cycles"]
    assert only["specialty"]["code"] == "31.08.20"
    nmo = next(c for c in only["components"] if c["counts"] == "nmo")
    assert (nmo["required"], nmo["earned"]) == (36, 16)
    assert only["records"][0]["credits"] == 16
    assert data["not_counted"][0]["counted"] is False


def test_plan_page_keeps_its_query_count_with_500_records(
    client, doctor, cycle, django_assert_max_num_queries, psychiatry, cardiology
):
    events = EventFactory.create_batch(250, approved=True, specialties=[psychiatry, cardiology])
    modules = ModuleFactory.create_batch(250, approved=True, specialties=[psychiatry])
    CreditEntry.objects.bulk_create(
        [
            CreditEntry(
                doctor=doctor,
                kind="credit",
                source="code",
                credits=1,
                earned_on=date(2024, 2, 1),
                activity_kind="event",
                activity_id=e.pk,
            )
            for e in events
        ]
        + [
            CreditEntry(
                doctor=doctor,
                kind="credit",
                source="module_completion",
                credits=1,
                earned_on=date(2024, 2, 1),
                activity_kind="module",
                activity_id=m.pk,
            )
            for m in modules
        ]
    )
    for activity in events[:5]:
        services.plan_add(doctor=doctor, event=activity)
    client.force_login(doctor)
    # 15 for the plan, 2 for the societies' announcements shown beside it (who reads, what there is), 1 for the
    # needs surveys open to the doctor, 1 for the navigation's commission seat
    with django_assert_max_num_queries(19):
        response = client.get(reverse("learning_plan:plan"))
    assert response.status_code == 200
    assert response.content.decode().count("data-record=") == 500


def test_plan_pages_are_the_doctors_own(client, doctor, cycle, psychiatry):
    from ..factories import DoctorProfileFactory

    other = DoctorProfileFactory(specialties=[psychiatry]).user
    client.force_login(other)
    assert client.post(reverse("learning_plan:cycle_remove", args=[cycle.pk])).status_code == 404
    assert client.get(reverse("learning_plan:plan_report", args=[cycle.pk, "csv"])).status_code == 404
    assert Cycle.objects.filter(pk=cycle.pk).exists()


def test_adding_to_the_plan_never_redirects_off_site(client, doctor):
    event = EventFactory(approved=True)
    client.force_login(doctor)
    response = client.post(
        reverse("learning_plan:plan_add", args=["event", event.pk]), {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse("learning_plan:plan")


def test_the_cached_plan_shows_each_change_at_once(client, doctor, cycle, django_capture_on_commit_callbacks):
    from credits.models import OutboxRecord

    client.force_login(doctor)
    url = reverse("learning_plan:plan")
    assert "Конгресс детской психиатрии" not in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        credit(doctor, EventFactory(approved=True, title="Конгресс детской психиатрии"), 6, date(2024, 3, 1))
    page = client.get(url).content.decode()
    assert "Конгресс детской психиатрии" in page
    assert "ожидает" in page
    # a delivery changes the record's state in the cabinet too: ministry_sync says so with the signal it sends
    from accounts.signals import records_changed

    OutboxRecord.objects.update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        records_changed(doctor.pk)
        OutboxRecord.objects.update(state=OutboxRecord.State.DELIVERED)
    assert "передано" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.cycle_remove(cycle=cycle, doctor=doctor)
    assert 'id="not-counted"' in client.get(url).content.decode()


def test_each_record_shows_how_far_it_went_to_the_ministry_also_after_its_outbox_row_is_removed(doctor, cycle, client):
    """Delivered outbox rows are removed after OUTBOX_RETENTION_DAYS: the credit is still shown as passed on,
    not as waiting."""
    from credits.models import OutboxRecord

    sent, waiting, failed, old = (
        credit(doctor, EventFactory(approved=True, hours=2, credits_requested=2), 2, date(2024, 3, day))
        for day in (1, 2, 3, 4)
    )
    OutboxRecord.objects.filter(entry=sent).update(state=OutboxRecord.State.DELIVERED)
    OutboxRecord.objects.filter(entry=failed).update(state=OutboxRecord.State.FAILED)
    OutboxRecord.objects.filter(entry=old).update(state=OutboxRecord.State.DELIVERED)
    OutboxRecord.objects.filter(entry=old).delete()
    client.force_login(doctor)
    page = client.get(reverse("learning_plan:plan")).content.decode()

    def badge(entry):
        row = page[page.index(f'data-record="event-{entry.activity_id}"') :]
        return row[row.index("data-ministry>") : row.index("</tr>")]

    assert "badge-success" in badge(sent)
    assert "passed on" in badge(sent) or "передано" in badge(sent)
    assert badge(old) == badge(sent)
    assert len({badge(sent), badge(waiting), badge(failed)}) == 3
