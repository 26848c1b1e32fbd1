"""At 375 px the tables of the doctor's and the provider's pages turn into cards whose cells carry their column's
name, so the key facts are on the screen without scrolling sideways; at 1280 px they stay tables. Every page here
also passes the axe check (see conftest), in Russian and in English."""

from datetime import timedelta

import pytest
from django.utils import timezone

from codes import services as codes_services
from credits import services as credits_services
from learning_plan import services as plan_services

from ..factories import EventFactory, MembershipFactory, ModuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESKTOP, PHONE = 1280, 375
# The column names the cards show, as the tables' headers say them.
CREDITS = {"ru": "Кредиты", "en": "Credits"}
HOURS = {"ru": "Часы", "en": "Hours"}
STATUS = {"ru": "Статус", "en": "Status"}


def in_language(page, assert_accessible, language: str) -> None:
    if page.locator("html").get_attribute("lang") != language:
        with page.expect_navigation():
            page.locator(f"button.lang[value={language}]").click()
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.evaluate(
        "`page ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`"
    )


def on_screen(page, cell, label: str | None = None) -> str:
    """The cell is visible, wholly inside the window's width, and (on a phone) labelled with its column."""
    assert cell.is_visible()
    box = cell.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert box is not None
    assert 0 <= box["x"] <= box["x"] + box["width"] <= width, (box, width)
    if label is not None:
        assert cell.evaluate("cell => getComputedStyle(cell, '::before').content") == f'"{label}"'
    return cell.inner_text()


def shown_as_table(page) -> bool:
    return page.locator("table.stack tbody tr").first.evaluate("row => getComputedStyle(row).display") == "table-row"


def test_the_plan_and_my_credits_show_hours_credits_and_ministry_state_on_a_phone(
    page, screenshot, sign_in, assert_accessible, make_codes, doctor, psychiatry
):
    start = timezone.localdate() - timedelta(days=400)
    plan_services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=start)
    credits_services.ledger_append(
        doctor=doctor,
        kind="credit",
        source="module_completion",
        credits=14,
        earned_on=start + timedelta(days=60),
        actor=None,
        activity=ModuleFactory(approved=True, title="Антипсихотики: мониторинг побочных эффектов", hours=14),
    )
    ends = timezone.now() - timedelta(days=2)
    event = EventFactory(
        approved=True,
        title="Национальный конгресс «Психиатрия: вызовы времени и междисциплинарный подход»",
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
    )
    (code,) = make_codes(event)
    codes_services.code_activate(user=doctor, raw=code.code, ip=None)

    sign_in(doctor.email)
    for language in ("ru", "en"):
        in_language(page, assert_accessible, language)
        for width in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            phone = width == PHONE

            page.goto("/me/plan/")
            row = page.locator("[data-cycle] tr[data-record]").filter(has_text="Национальный конгресс")
            assert shown_as_table(page) is not phone
            assert on_screen(page, row.locator("[data-hours]"), HOURS[language] if phone else None) == "6"
            on_screen(page, row.locator("[data-ministry]"))
            no_sideways_scroll(page)
            screenshot(f"phone-plan-{language}-{width}")

            page.goto("/me/credits/")
            row = page.locator("tr", has_text="Антипсихотики")
            assert shown_as_table(page) is not phone
            assert on_screen(page, row.locator("[data-credits]"), CREDITS[language] if phone else None) == "14"
            assert on_screen(page, page.locator("tr", has_text=code.display).locator("[data-credits]")) == "6"
            no_sideways_scroll(page)
            screenshot(f"phone-credits-{language}-{width}")


def test_the_codes_page_and_the_activity_list_fit_a_phone(
    page, screenshot, sign_in, assert_accessible, make_codes, psychiatry
):
    membership = MembershipFactory(organization__name="Российское общество психиатров")
    organization = membership.organization
    ends = timezone.now() - timedelta(days=1)
    event = EventFactory(
        organization=organization,
        approved=True,
        title="Школа молодого психиатра: неотложные состояния",
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )
    ModuleFactory(organization=organization, title="Депрессия в общей практике", credits_requested=4)
    (code,) = make_codes(
        event,
        holder_name="Константинопольская Александра Владимировна",
        holder_email="konstantinopolskaya.aleksandra@example.org",
    )

    sign_in(membership.user.email)
    for language in ("ru", "en"):
        in_language(page, assert_accessible, language)
        for width in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            phone = width == PHONE

            page.goto(f"/provider/events/{event.pk}/codes/")
            row = page.locator("tbody tr", has_text="Константинопольская")
            assert shown_as_table(page) is not phone
            assert on_screen(page, row.locator("[data-code]")) == code.display
            on_screen(page, row.locator("[data-code-status]"), STATUS[language] if phone else None)
            on_screen(page, row.get_by_role("link", name="Свидетельство" if language == "ru" else "Certificate"))
            no_sideways_scroll(page)
            screenshot(f"phone-codes-{language}-{width}")

            page.goto(f"/provider/organizations/{organization.pk}/activities/")
            event_row = page.locator("tr", has_text="Школа молодого психиатра")
            assert shown_as_table(page) is not phone
            assert on_screen(page, event_row.locator("[data-credits]"), CREDITS[language] if phone else None) == "6"
            assert on_screen(page, page.locator("tr", has_text="Депрессия").locator("[data-credits]")) == "4"
            no_sideways_scroll(page)
            screenshot(f"phone-activities-{language}-{width}")
