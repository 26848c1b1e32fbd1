from datetime import timedelta

import pytest
from django.utils import timezone

from codes.format import format_code
from learning_plan import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_code_activated_from_the_plan_shows_in_its_bars_in_russian_and_english(
    page, at_both_widths, sign_in, doctor, psychiatry, ended_event_factory
):
    services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=timezone.localdate() - timedelta(days=400))
    _first_event, first_code = ended_event_factory()
    second_event, second_code = ended_event_factory()

    sign_in(doctor.email)
    page.goto("/me/plan/")
    earned = page.locator("[data-component=nmo] [data-earned]").first
    assert earned.inner_text() == "0"
    page.fill(".activate-form input[name=code]", format_code(first_code.code))
    page.locator(".page-head .activate-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/me/plan/")
    assert "Код активирован" in page.locator(".messages").inner_text()
    assert earned.inner_text() == "6"
    at_both_widths("activation-from-plan-ru")

    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    page.fill(".activate-form input[name=code]", format_code(second_code.code))
    page.locator(".page-head .activate-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/me/plan/")
    assert "Code activated" in page.locator(".messages").inner_text()
    assert earned.inner_text() == "12"
    assert second_event.title in page.content()
    at_both_widths("activation-from-plan-en")
