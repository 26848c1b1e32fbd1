import re
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from review.models import Status

from ..factories import MembershipFactory, ReviewerAppointmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_provider_submits_an_event_the_expert_approves_it_and_it_appears_in_the_catalogue(
    page, screenshot, sign_in, assert_accessible, psychiatry
):
    provider = MembershipFactory(organization__name="Российское общество психиатров").user
    reviewer = ReviewerAppointmentFactory(specialty=psychiatry).user
    start = timezone.localdate() + timedelta(days=60)
    end = start + timedelta(days=3)

    sign_in(provider.email)
    page.click("[data-nav=provider]")
    page.wait_for_url("**/organizations/")
    assert_accessible()
    page.get_by_role("link", name="Мероприятия и модули").click()
    page.wait_for_url("**/activities/")
    assert_accessible()
    page.get_by_role("link", name="Новое мероприятие").click()
    page.fill("input[name=title]", "Национальный конгресс психиатров")
    page.fill("textarea[name=programme]", "Пленарные доклады, симпозиумы, клинические разборы.")
    page.get_by_label("Очное", exact=True).check()
    page.fill("input[name=venue]", "Москва, Крокус Экспо")
    page.fill("input[name=starts_at]", f"{start:%Y-%m-%d}T09:00")
    page.fill("input[name=ends_at]", f"{end:%Y-%m-%d}T18:00")
    page.get_by_label(f"{psychiatry.code} {psychiatry.name}", exact=True).check()
    page.fill("input[name=hours]", "32")
    page.fill("input[name=credits_requested]", "25")
    screenshot("event-form-ru")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/provider/events/\d+/$"))
    # 25 credits for 4 days is above 6 a day: the page says so before submitting
    assert "не более 24" in page.locator(".message-warning").inner_text()
    screenshot("event-draft-problems-ru")

    page.get_by_role("link", name="Редактировать").click()
    page.wait_for_url("**/edit/")
    assert_accessible()
    page.fill("input[name=credits_requested]", "24")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/provider/events/\d+/$"))
    assert_accessible()
    page.get_by_role("button", name="Отправить на экспертизу").click()
    page.wait_for_load_state()
    assert "На экспертизе" in page.locator("[data-status]").first.inner_text()
    screenshot("event-submitted-ru")
    event = Event.objects.get()
    assert event.reviewer == reviewer

    sign_in(reviewer.email)
    page.click("[data-nav=reviewer]")
    page.wait_for_url("**/review/")
    screenshot("review-queue-ru")
    page.get_by_role("link", name="Национальный конгресс психиатров").click()
    page.get_by_label("Одобрить и начислить кредиты").check()
    page.fill("input[name=credits]", "24")
    page.fill("textarea[name=comment]", "Программа соответствует требованиям.")
    screenshot("review-case-ru")
    page.get_by_role("button", name="Сохранить решение").click()
    page.wait_for_url("**/review/")
    assert_accessible()
    event.refresh_from_db()
    assert event.status == Status.APPROVED
    assert event.credits_granted == 24

    page.context.clear_cookies()
    page.goto("/catalog/events/")
    assert_accessible()
    page.fill("input[name=q]", "конгресс")
    page.get_by_role("button", name="Найти").click()
    item = page.locator(".catalog-item").filter(has_text="Национальный конгресс психиатров")
    assert "24 кредита" in item.inner_text()
    screenshot("catalog-ru")
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "24 credits" in page.locator(".catalog-item").first.inner_text()
    screenshot("catalog-en")
