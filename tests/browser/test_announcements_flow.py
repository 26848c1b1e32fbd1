"""Announcements in a real browser: the demo society's staff publish one from their organization's page, and the
demo doctor sees it on the home page and in the plan, its text rendered and its script inert, in Russian and
English at 1280 and 375 px."""

from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from societies.models import Announcement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "Пленум правления РОП: приём тезисов открыт"
BODY = """Приглашаем членов общества подать тезисы к **пленуму правления**.

- срок — до конца месяца;
- подробности на [сайте общества](https://psychiatr.example.org/plenum).

<script>alert("xss")</script> [не ссылка](javascript:alert(1))"""


def test_society_staff_publish_and_the_doctor_sees_it_on_the_home_page_and_in_the_plan(
    page, at_both_widths, screenshot, sign_in, assert_accessible, settings
):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # the society's staff: from their organization's page to a new announcement
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
    page.click("text=Новое объявление")
    page.wait_for_url("**/announcements/new/")
    labels = page.locator("fieldset .checkbox-list label")
    assert labels.count() == 4  # the society's four specialties, no other
    page.fill("#id_title", TITLE)
    page.fill("#id_body", BODY)
    page.check("label:has-text('31.08.20') input")
    at_both_widths("announcement-form-ru")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/societies/*/announcements/")
    assert "Объявление опубликовано." in page.locator(".messages").inner_text()
    assert TITLE in page.locator("table.stack").inner_text()
    assert Announcement.objects.filter(title=TITLE, withdrawn_at=None).count() == 1
    at_both_widths("society-announcements-ru")

    # the doctor of psychiatry: the home page first
    sign_in("doctor@example.org", "demo-password-1")
    page.goto("/")
    block = page.locator("#announcements")
    assert "Новости ваших профессиональных обществ" in block.inner_text()
    assert TITLE in block.inner_text()
    assert "alert" not in block.inner_text()  # the excerpt keeps the words, not the script
    at_both_widths("home-announcements-ru")

    page.click(f"#announcements >> text={TITLE}")
    page.wait_for_url("**/announcements/*/")
    body = page.locator(".announcement-body")
    assert body.locator("strong").inner_text() == "пленуму правления"
    link = body.locator("a", has_text="сайте общества")
    assert link.get_attribute("href") == "https://psychiatr.example.org/plenum"
    assert link.get_attribute("rel") == "nofollow noopener"
    assert '<script>alert("xss")</script>' in body.inner_text()  # shown as text, never run
    assert body.locator("script").count() == 0
    assert body.locator("a[href^='javascript']").count() == 0
    screenshot("announcement-ru-1280")

    # and in the plan, beside the cached plan
    page.click("[data-nav=plan]")
    page.wait_for_url("**/me/plan/")
    assert TITLE in page.locator("#announcements").inner_text()
    at_both_widths("plan-announcements-ru")

    # the weekly digest, from the block
    page.click("#announcements >> text=Получать эти объявления раз в неделю на почту")
    page.wait_for_url("**/me/announcements/digest/")
    page.check("#id_subscribed")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/announcements/digest/")
    assert "по понедельникам" in page.locator(".messages").inner_text()
    at_both_widths("announcement-digest-ru")

    # the same in English
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "Weekly digest of announcements" in page.locator("h1").inner_text()
    assert_accessible()
    page.click("[data-nav=plan]")
    page.wait_for_url("**/me/plan/")
    block = page.locator("#announcements")
    assert "News of your professional societies" in block.inner_text()
    assert TITLE in block.inner_text()
    assert "Weekly digest by e-mail: on" in block.inner_text()
    at_both_widths("plan-announcements-en")
    page.click("a.brand")
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    assert TITLE in page.locator("#announcements").inner_text()
    at_both_widths("home-announcements-en")
    assert dialogs == []  # no script of the text ever ran


def test_society_staff_manage_announcements_in_english(page, at_both_widths, sign_in, assert_accessible, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    sign_in("society@example.org", "demo-password-1")
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert_accessible()
    society = Announcement.objects.get().society
    page.goto(f"/societies/{society.pk}/announcements/")
    assert "The society's announcements" in page.locator("h1").inner_text()
    at_both_widths("society-announcements-en")

    page.click("text=New announcement")
    page.wait_for_url("**/announcements/new/")
    assert_accessible()
    page.fill("#id_title", "Plenum of the Board")
    page.fill("#id_body", "Abstracts are *welcome*.")
    page.check("label:has-text('31.08.22') input")
    page.check("#id_pinned")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/societies/*/announcements/")
    assert "The announcement is published." in page.locator(".messages").inner_text()
    row = page.locator("tr", has_text="Plenum of the Board")
    assert "pinned" in row.inner_text()
    at_both_widths("society-announcements-published-en")

    row.locator("button", has_text="Withdraw").click()
    page.wait_for_load_state()
    assert "The announcement is withdrawn." in page.locator(".messages").inner_text()
    assert "withdrawn" in page.locator("tr", has_text="Plenum of the Board").inner_text()
    assert_accessible()
