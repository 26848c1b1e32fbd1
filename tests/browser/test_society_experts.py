"""A society's administrator manages its experts from the organization's page: appoints one by e-mail (a person
without an account is told so), retires another whose cases stay with them, and hands those cases to a third
expert; the page reads the same in Russian and English, at 1280 and 375 px."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Membership, Organization, ReviewerAppointment
from events.models import Event
from review.models import Status

from ..factories import (
    EventFactory,
    MembershipFactory,
    ModuleFactory,
    OrganizationFactory,
    ReviewerAppointmentFactory,
    UserFactory,
    specialty,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The experts page; after the appointment form the browser keeps its #appoint through the redirect.
EXPERTS = re.compile(r"/organizations/\d+/experts/(#appoint)?$")


def test_a_society_administrator_appoints_retires_and_hands_cases_over(
    page, sign_in, assert_accessible, at_both_widths, psychiatry
):
    society = OrganizationFactory(name="Российское общество психиатров", kind=Organization.Kind.SOCIETY)
    society.specialties.set([psychiatry, specialty("31.08.21")])
    admin = MembershipFactory(organization=society, role=Membership.Role.ADMIN).user
    leaving = ReviewerAppointmentFactory(
        specialty=psychiatry, organization=society, user__last_name="Орлов", user__first_name="Пётр"
    ).user
    staying = ReviewerAppointmentFactory(
        specialty=psychiatry, organization=society, user__last_name="Белова", user__first_name="Анна"
    ).user
    newcomer = UserFactory(email="sokolova@example.org", last_name="Соколова", first_name="Мария")
    now = timezone.now()
    for n, factory in enumerate((EventFactory, ModuleFactory)):
        factory(
            title=f"Открытая заявка {n}",
            status=Status.IN_REVIEW,
            reviewer=leaving,
            specialties=[psychiatry],
            submitted_at=now - timedelta(days=20),
            due_at=now + timedelta(days=5 - 10 * n),  # the module is past its deadline
        )
    for days in (3, 5, 12):
        EventFactory(
            approved=True,
            reviewer=staying,
            specialties=[psychiatry],
            submitted_at=now - timedelta(days=40 + days),
            decided_at=now - timedelta(days=40),
        )

    sign_in(admin.email)
    page.click("[data-nav=provider]")
    page.wait_for_url("**/organizations/")
    assert_accessible()
    page.get_by_role("link", name="Российское общество психиатров").click()
    page.wait_for_url(re.compile(r"/organizations/\d+/$"))
    assert_accessible()
    page.get_by_role("link", name="Эксперты общества, их очереди и сроки экспертизы").click()
    page.wait_for_url(EXPERTS)
    assert page.get_by_role("heading", name="Эксперты общества").is_visible()
    leaving_row = page.locator(f'tr[data-expert="{leaving.email}"]')
    staying_row = page.locator(f'tr[data-expert="{staying.email}"]')
    assert leaving_row.locator("[data-open-cases]").inner_text() == "2"
    assert leaving_row.locator("[data-overdue]").inner_text() == "1"
    assert staying_row.locator("[data-median-days]").inner_text() == "5,0"
    at_both_widths("society-experts-ru")

    page.fill("input[name=email]", "nobody@example.org")
    page.get_by_label("31.08.20 Психиатрия", exact=True).check()
    page.get_by_role("button", name="Назначить", exact=True).click()
    page.wait_for_load_state()
    assert "На портале нет учётной записи с e-mail nobody@example.org" in page.locator("#appoint").inner_text()
    assert_accessible()
    page.fill("input[name=email]", newcomer.email)
    page.get_by_label("31.08.20 Психиатрия", exact=True).check()
    page.get_by_role("button", name="Назначить", exact=True).click()
    page.wait_for_url(EXPERTS)
    assert "назначен(а) экспертом" in page.locator(".messages").inner_text()
    assert page.locator(f'tr[data-expert="{newcomer.email}"]').is_visible()
    assert_accessible()

    leaving_row.get_by_role("button", name="Вывести из экспертов").click()
    page.wait_for_url(EXPERTS)
    assert "остаются у эксперта" in page.locator(".messages").inner_text()
    assert leaving_row.get_by_text("выведен", exact=True).is_visible()
    assert leaving_row.locator("[data-open-cases]").inner_text() == "2"
    assert not ReviewerAppointment.objects.get(user=leaving).is_active
    at_both_widths("society-experts-retired-ru")

    leaving_row.get_by_label("Передать заявки на экспертизе эксперту").select_option(str(staying.pk))
    leaving_row.get_by_role("button", name="Передать", exact=True).click()
    page.wait_for_url(EXPERTS)
    assert "2 заявки переданы эксперту" in page.locator(".messages").inner_text()
    assert leaving_row.locator("[data-open-cases]").inner_text() == "0"
    assert staying_row.locator("[data-open-cases]").inner_text() == "2"
    assert set(Event.objects.filter(status=Status.IN_REVIEW).values_list("reviewer", flat=True)) == {staying.pk}
    assert_accessible()

    with page.expect_navigation():
        page.locator("button.lang[value=en]").click()
    assert page.get_by_role("heading", name="Experts of the society").is_visible()
    assert staying_row.locator("[data-median-days]").inner_text() == "5.0"
    assert leaving_row.get_by_text("retired", exact=True).is_visible()
    at_both_widths("society-experts-en")
