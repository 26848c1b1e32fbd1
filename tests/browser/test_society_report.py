"""The society report in a real browser: the demo society's staff open it from their announcements page and read
its figures and charts, in Russian and English at 1280 and 375 px (axe checks each view)."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_society_staff_read_the_report_with_its_charts(page, at_both_widths, sign_in, assert_accessible, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False

    sign_in("society@example.org", "demo-password-1")
    page.click("[data-nav=provider]")
    page.wait_for_url("**/me/organizations/")
    assert_accessible()
    page.click("text=Российское общество психиатров")
    page.wait_for_url("**/me/organizations/*/")
    assert_accessible()
    page.click("main .page-head >> text=Объявления")
    page.wait_for_url("**/societies/*/announcements/")
    assert_accessible()
    page.click("text=Отчёт общества")
    page.wait_for_url("**/societies/*/report/")
    assert_accessible()
    assert "Подано активностей" in page.locator("table.report-figures").inner_text()
    assert page.locator("svg.bar-chart[role=img]").count() == 3
    at_both_widths("society-report-ru")

    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "Activities submitted" in page.locator("table.report-figures").inner_text()
    assert page.locator("svg.bar-chart[role=img]").count() == 3
    at_both_widths("society-report-en")
