import re

import pytest
from django.core import mail

from accounts.models import DoctorProfile, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_doctor_signs_up_confirms_the_email_and_fills_the_profile(
    page, screenshot, assert_accessible, live_server, psychiatry
):
    page.goto("/")
    assert "Непрерывное медицинское образование" in page.content()
    screenshot("home-ru")

    page.get_by_role("link", name="Зарегистрироваться").first.click()
    page.fill("input[name=email]", "anna.kuznetsova@example.org")
    page.fill("input[name=last_name]", "Кузнецова")
    page.fill("input[name=first_name]", "Анна")
    page.fill("input[name=middle_name]", "Игоревна")
    page.fill("input[name=password1]", "Strong-pass-2026!")
    page.fill("input[name=password2]", "Strong-pass-2026!")
    screenshot("signup-ru")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert_accessible()

    # Signing in before confirming is refused: allauth sends another confirmation instead
    page.goto("/accounts/login/")
    assert_accessible()
    page.fill("input[name=login]", "anna.kuznetsova@example.org")
    page.fill("input[name=password]", "Strong-pass-2026!")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert_accessible()
    assert not User.objects.get(email="anna.kuznetsova@example.org").emailaddress_set.filter(verified=True).exists()

    link = re.search(r"https?://\S+(/accounts/confirm-email/\S+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    screenshot("confirm-email-ru")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("[data-nav=profile]").is_visible()  # signed in after confirming
    assert_accessible()

    page.click("[data-nav=profile]")
    page.wait_for_url("**/profile/")
    assert_accessible()
    page.fill("input[name=snils]", "112-233-445 96")
    page.get_by_label(f"{psychiatry.code} {psychiatry.name}", exact=True).check()
    page.locator("main form button[type=submit]").click()
    assert page.locator(".errorlist").first.is_visible()
    assert "контрольн" in page.locator(".errorlist").first.inner_text()
    screenshot("profile-bad-snils-ru")
    assert not DoctorProfile.objects.filter(snils__isnull=False).exists()

    page.fill("input[name=snils]", "112-233-445 95")
    page.locator("main form button[type=submit]").click()
    assert page.locator(".message-success").is_visible()
    screenshot("profile-saved-ru")
    profile = DoctorProfile.objects.get(user__email="anna.kuznetsova@example.org")
    assert profile.snils == "11223344595"
    assert list(profile.specialties.values_list("code", flat=True)) == ["31.08.20"]

    # The same page in English
    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert "Doctor's details" in page.content()
    screenshot("profile-en")
