"""The work history in the profile, in a real browser: a doctor adds a place of work, sees the years of practice,
closes the period and removes another one; at 1280 px the history is a table, at 375 px cards whose cells carry
their column's name. Every page passes the axe check, in Russian and in English."""

from datetime import date

import pytest
from django.utils import translation

from accounts.models import WorkRecord
from accounts.selectors import practice_years

from ..factories import WorkRecordFactory
from .test_phone_layout import DESKTOP, PHONE, in_language, no_sideways_scroll, on_screen, shown_as_table

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PERIOD = {"ru": "Период", "en": "Period"}


def test_a_doctor_keeps_the_work_history_in_the_profile(
    page, screenshot, sign_in, assert_accessible, doctor, psychiatry
):
    WorkRecordFactory(
        doctor=doctor,
        employer="ГБУЗ «Научно-практический психоневрологический центр им. З. П. Соловьёва ДЗМ»",
        started_on=date(2012, 9, 1),
        ended_on=date(2018, 10, 31),
    )
    sign_in(doctor.email)

    page.goto("/me/profile/work/add/")
    assert_accessible()
    page.fill("input[name=employer]", "ГБУЗ «ПКБ № 1 им. Н. А. Алексеева ДЗМ»")
    page.fill("input[name=employer_inn]", "7707083893")
    page.select_option("select[name=region]", label="Москва")
    page.fill("input[name=unit]", "Отделение № 5")
    page.fill("input[name=position]", "Врач-психиатр")
    page.select_option("select[name=specialty]", label="31.08.20 Психиатрия")
    page.fill("input[name=started_on]", "2018-11-01")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/profile/#work-history")
    assert page.locator("[data-work-record]").count() == 2
    current = page.locator("[data-work-record]", has_text="Алексеева")
    assert "по настоящее время" in current.inner_text()
    with translation.override("ru"):  # 1.9.2012 to this day without a break, as the selector counts it
        expected = str(practice_years(doctor, psychiatry))
    assert page.locator('[data-practice="31.08.20"] strong').inner_text() == expected

    for language in ("ru", "en"):
        in_language(page, assert_accessible, language)
        for width in (DESKTOP, PHONE):
            page.set_viewport_size({"width": width, "height": 900})
            phone = width == PHONE
            page.goto("/me/profile/#work-history")
            assert shown_as_table(page) is not phone
            on_screen(page, current.locator("td").nth(4), PERIOD[language] if phone else None)
            no_sideways_scroll(page)
            screenshot(f"work-history-{language}-{width}")
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    in_language(page, assert_accessible, "ru")

    current.get_by_role("link", name="Редактировать").click()
    page.wait_for_url("**/me/profile/work/*/")
    assert_accessible()
    page.fill("input[name=ended_on]", "2024-12-31")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/me/profile/#work-history")
    assert "31.12.2024" in current.inner_text()
    # 1.9.2012 to 31.12.2024 without a break: 12 years and 4 months
    assert page.locator('[data-practice="31.08.20"] strong').inner_text() == "12 лет 4 мес."

    page.locator("[data-work-record]", has_text="Соловьёва").get_by_role("button", name="Удалить").click()
    page.wait_for_url("**/me/profile/#work-history")
    assert_accessible()
    assert page.locator("[data-work-record]").count() == 1
    assert list(WorkRecord.objects.filter(doctor=doctor).values_list("employer", flat=True)) == [
        "ГБУЗ «ПКБ № 1 им. Н. А. Алексеева ДЗМ»"
    ]
