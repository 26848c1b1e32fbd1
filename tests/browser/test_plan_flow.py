from datetime import date, timedelta

import pytest
from django.utils import timezone

from credits import services as credits_services
from learning_plan import services

from ..factories import EventFactory, ModuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_learning_plan_shows_progress_in_russian_and_english(
    page, screenshot, sign_in, assert_accessible, doctor, psychiatry, cardiology
):
    start = timezone.localdate() - timedelta(days=800)
    services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=start)
    for title, hours in (("Национальный конгресс психиатров", 16), ("Школа психофармакологии", 10)):
        credits_services.ledger_append(
            doctor=doctor,
            kind="credit",
            source="code",
            credits=hours,
            earned_on=start + timedelta(days=30),
            actor=None,
            activity=EventFactory(approved=True, title=title, hours=hours, credits_requested=hours),
        )
    credits_services.ledger_append(
        doctor=doctor,
        kind="credit",
        source="module_completion",
        credits=20,
        earned_on=start + timedelta(days=60),
        actor=None,
        activity=ModuleFactory(approved=True, title="Антипсихотики: мониторинг", hours=20, credits_requested=20),
    )
    credits_services.ledger_append(
        doctor=doctor,
        kind="credit",
        source="code",
        credits=6,
        earned_on=start + timedelta(days=90),
        actor=None,
        activity=EventFactory(approved=True, title="Школа кардиолога", specialties=[cardiology]),
    )
    services.programme_add(
        doctor=doctor,
        specialty=psychiatry,
        name="Психиатрия: актуальные вопросы",
        organization="РМАНПО",
        hours=72,
        starts_on=date(start.year + 1, 2, 1),
        ends_on=date(start.year + 1, 2, 28),
        document_number="ПК 0001",
    )
    planned = EventFactory(approved=True, title="Конгресс «Психиатрия будущего»")

    sign_in(doctor.email)
    page.goto(f"/catalog/events/{planned.pk}/")
    assert_accessible()
    page.get_by_role("button", name="Добавить в мой план обучения").click()
    page.wait_for_load_state()
    assert (
        "в вашем плане обучения" in page.locator(".messages").inner_text().lower()
        or page.locator(".message-success").is_visible()
    )
    assert_accessible()
    page.click("[data-nav=plan]")
    page.wait_for_url("**/me/plan/")
    cycle = page.locator("[data-cycle='31.08.20']")
    assert cycle.locator("[data-component=nmo] [data-earned]").inner_text() == "46"
    assert "+10" in cycle.locator("[data-component=nmo]").inner_text()
    assert cycle.locator("[data-component=programme] [data-earned]").inner_text() == "72"
    bars = cycle.locator("[role=progressbar]")
    assert bars.count() == 5
    assert bars.first.is_visible()
    assert "Школа кардиолога" in page.locator("#not-counted").inner_text()
    assert "Конгресс «Психиатрия будущего»" in page.locator("#planned").inner_text()
    screenshot("plan-ru")

    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "Learning plan" in page.locator("h1").inner_text()
    assert "above target" in page.locator("[data-component=nmo]").inner_text()
    screenshot("plan-en")
