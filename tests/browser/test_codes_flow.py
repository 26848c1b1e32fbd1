from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from codes.models import IcpCode
from credits.models import CreditEntry

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_provider_issues_codes_from_a_list_and_a_doctor_activates_one(
    page, screenshot, sign_in, assert_accessible, psychiatry, tmp_path
):
    provider = MembershipFactory(organization__name="Российское общество психиатров").user
    ends = timezone.now() - timedelta(hours=3)
    event = EventFactory(
        organization=provider.memberships.get().organization,
        title="Школа молодого психиатра",
        approved=True,
        starts_at=ends - timedelta(hours=8),
        ends_at=ends,
        hours=8,
        credits_requested=6,
        specialties=[psychiatry],
    )
    doctor = DoctorProfileFactory(specialties=[psychiatry], user__email="ivanova@example.org").user
    attendees = tmp_path / "участники.csv"
    attendees.write_bytes(
        (
            "ФИО;E-mail;СНИЛС\r\n"
            "Иванова Мария Сергеевна;ivanova@example.org;\r\n"
            "Петров Илья Андреевич;petrov@example.org;\r\n"
        ).encode("cp1251")
    )

    sign_in(provider.email)
    page.goto(f"/provider/events/{event.pk}/")
    assert_accessible()
    page.get_by_role("link", name="Коды и свидетельства").click()
    page.wait_for_url("**/codes/")
    assert_accessible()
    page.set_input_files("input[name=file]", str(attendees))
    page.locator("form[action$='/codes/upload/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "Выпущено кодов: 2" in page.locator(".messages").inner_text()
    screenshot("codes-issued-ru")
    code = IcpCode.objects.get(holder_email="ivanova@example.org")
    row = page.locator("tr", has_text="Иванова Мария Сергеевна")
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Свидетельство").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")

    sign_in(doctor.email)
    page.click("[data-nav=credits]")
    page.wait_for_url("**/me/credits/")
    page.fill("input[name=code]", code.display.lower().replace("-", " "))
    screenshot("activate-ru")
    page.get_by_role("button", name="Активировать").click()
    page.wait_for_load_state()
    assert "Школа молодого психиатра" in page.locator("table").inner_text()
    screenshot("credits-ru")
    entry = CreditEntry.objects.get(doctor=doctor)
    assert (entry.credits, entry.activity_kind, entry.activity_id) == (6, "event", event.pk)

    page.fill("input[name=code]", code.display)
    page.get_by_role("button", name="Активировать").click()
    assert page.locator("[data-error=code_already_yours]").is_visible()
    assert_accessible()

    page.context.clear_cookies()
    page.goto(f"/verify/{code.verify_token}/")
    assert page.locator("[data-verdict=activated]").is_visible()
    assert "Школа молодого психиатра" in page.content()
    assert "Иванова" not in page.content()  # the holder has not agreed to show the name
    screenshot("verify-ru")
    assert page.locator('dl dt:text-is("Кредиты") + dd').inner_text() == "6"
