"""«Московский врач» in a real browser, from the demo doctor's application to the status certificate and its public
check page: the doctor applies, the demo commission member sets the test, records the three stages and awards the
status, the doctor downloads the certificate and opens the check page its QR code leads to; in Russian and
English, with screenshots."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from nmo_portal.calendar import today
from statuses.models import Status, StatusApplication

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PROGRAMME = "/status-programmes/moscow-doctor/"


def test_the_demo_doctor_is_awarded_the_status_and_its_check_page_confirms_it(
    page, at_both_widths, screenshot, sign_in, assert_accessible, settings
):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False

    # The doctor finds the programme from the header and applies in psychiatry, agreeing to be named.
    sign_in("doctor@example.org", "demo-password-1")
    page.click("[data-nav=statuses]")
    page.wait_for_url("**/me/statuses/")
    assert_accessible()
    page.goto(PROGRAMME)
    standing = page.locator("[data-specialty='31.08.20']")
    assert standing.get_attribute("data-eligible") == "yes"
    allowance = page.locator("[data-allowance]").inner_text()
    assert "15 000 ₽" in allowance.replace("\xa0", " ").replace("\u202f", " ")
    at_both_widths("status-programme-ru")
    standing.locator("input[name=public_consent]").check()
    standing.locator("form.apply-form button[type=submit]").click()
    page.wait_for_url("**/me/statuses/applications/*/")
    application = StatusApplication.objects.get(doctor__email="doctor@example.org")
    assert application.state == StatusApplication.State.OPEN
    assert application.public_consent is True
    at_both_widths("status-application-ru")

    # The commission member sets the test, records the three stages in order and awards the status.
    sign_in("commission@example.org", "demo-password-1")
    page.click("[data-nav=commission]")
    page.wait_for_url("**/commission/")
    at_both_widths("commission-queue-ru")
    page.locator(f"[href='/commission/applications/{application.pk}/']").first.click()
    page.wait_for_url(f"**/commission/applications/{application.pk}/")
    assert page.locator("[data-frozen]").is_visible()
    assert page.locator("[data-work]").inner_text().count("7701551231") >= 1
    at_both_widths("commission-application-ru")

    schedule = page.locator("[data-stage='1'] details form")
    schedule.locator("input[type=datetime-local]").fill("2026-12-10T10:00")
    schedule.locator("input[name$=place]").fill("Москва, ул. Шарикоподшипниковская, 9, ауд. 12")
    schedule.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Шарикоподшипниковская" in page.locator("[data-stage='1']").inner_text()
    assert_accessible()

    record_stage(page, assert_accessible, score="85")  # the test's pass mark is 80%
    assert page.locator("[data-stage='1'] [data-result]").get_attribute("data-result") == "passed"
    record_stage(page, assert_accessible)
    record_stage(page, assert_accessible)
    decision = page.locator("form[data-decision-form]")
    decision.locator("input[value=award]").check()
    decision.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-decision]").get_attribute("data-decision") == "awarded"
    status = Status.objects.get(application=application)
    assert status.number in page.locator("#decision").inner_text()
    at_both_widths("commission-decision-ru")

    # The doctor sees the status, downloads its certificate, and opens the check page.
    sign_in("doctor@example.org", "demo-password-1")
    page.goto("/me/statuses/")
    row = page.locator(f"[data-status='{status.number}']")
    assert row.get_attribute("data-state") == "valid"
    at_both_widths("my-statuses-ru")
    with page.expect_download() as caught:
        row.locator("a[href$='certificate.pdf']").click()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(caught.value.path()).read_bytes())).pages)
    assert status.number in text
    assert "Иванова" in text
    assert f"/statuses/check/{status.check_token}/" in text.replace("\n", "")
    row.locator(f"a[href='/statuses/check/{status.check_token}/']").click()
    page.wait_for_url(f"**/statuses/check/{status.check_token}/")
    assert page.locator("[data-verdict]").get_attribute("data-verdict") == "valid"
    assert "Иванова" in page.locator("[data-holder]").inner_text()
    at_both_widths("status-check-ru")

    # The same in English: the check page, the doctor's statuses, the public register.
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "The status is valid" in page.locator("[data-verdict]").inner_text()
    at_both_widths("status-check-en")
    page.goto("/me/statuses/")
    assert "Moscow Doctor" in page.locator(f"[data-status='{status.number}']").inner_text()
    at_both_widths("my-statuses-en")
    page.goto("/statuses/register/?specialty=31.08.20")
    assert status.number in page.locator("main").inner_text()
    at_both_widths("status-register-en")
    page.goto(PROGRAMME)
    assert "Moscow Doctor" in page.locator("h1").inner_text()
    at_both_widths("status-programme-en")


def record_stage(page, assert_accessible, *, score: str | None = None) -> None:
    """Record the next stage's result on the commission's page: a score, or passed."""
    form = page.locator("form[data-result-form]")
    position = form.locator("xpath=ancestor::*[@data-stage]").get_attribute("data-stage")
    if score is not None:
        form.locator("input[name$=score]").fill(score)
    else:
        form.locator("input[name$=passed][value=yes]").check()
    form.locator("input[name$=held_on]").fill(today().isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f"[data-stage='{position}'] [data-result]").get_attribute("data-result") != "none"
    assert_no_refusal(page)
    assert_accessible()


def assert_no_refusal(page) -> None:
    assert page.locator("[data-refusal]").count() == 0, page.locator("[data-refusal]").inner_text()
