"""A needs survey in a real browser: the society's staff start one from the template and open it; a doctor of its
specialty finds it in the plan and answers; the staff read the results with their chart once five have answered.
In Russian and English, at 1280 and 375 px."""

import pytest

from accounts.models import Membership
from societies import surveys
from societies.models import AnswerSet, Survey

from ..factories import DoctorProfileFactory, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def valid_answers(survey):
    """An answer to every question, as the API takes them."""
    answers = []
    for question in survey.questions.prefetch_related("options"):
        options = list(question.options.all())
        value = {
            "single": options[0].pk if options else None,
            "multiple": [options[0].pk] if options else [],
            "scale": 4,
        }.get(question.kind, "Ответ коллеги")
        answers.append({"question": question.pk, "value": value})
    return answers


def test_staff_open_a_survey_a_doctor_answers_and_the_staff_read_the_results(
    page, at_both_widths, sign_in, assert_accessible, psychiatry
):
    society = OrganizationFactory(name="Российское общество психиатров")
    society.specialties.set([psychiatry])
    staff = MembershipFactory(organization=society, role=Membership.Role.ADMIN).user
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user

    sign_in(staff.email)
    page.goto(f"/societies/{society.pk}/surveys/")
    assert_accessible()
    page.get_by_role("button", name="Начать с шаблона").click()
    page.wait_for_load_state()
    assert_accessible()
    page.get_by_role("button", name="Открыть опрос и пригласить врачей").click()
    page.wait_for_load_state()
    survey = Survey.objects.get(society=society)
    assert survey.status == Survey.Status.OPEN
    at_both_widths("survey-builder-ru")

    sign_in(doctor.email)
    page.goto("/me/plan/")
    assert_accessible()
    card = page.locator(".surveys-card")
    assert survey.title in card.inner_text()
    card.get_by_role("link", name=survey.title).click()
    page.wait_for_load_state()
    assert_accessible()
    for fieldset in page.locator("form.survey-form fieldset").all():
        choice = fieldset.locator("input[type=radio], input[type=checkbox]")
        if choice.count():
            choice.first.check()
        else:
            fieldset.locator("textarea").fill("Хочу больше разборов клинических случаев.")
    page.get_by_role("button", name="Отправить ответы").click()
    page.wait_for_load_state()
    assert AnswerSet.objects.filter(survey=survey).count() == 1
    at_both_widths("survey-answered-ru")

    for _ in range(4):  # colleagues, so that the group reaches five
        colleague = DoctorProfileFactory(specialties=[psychiatry]).user
        surveys.survey_answer(survey=survey, doctor=colleague, answers=valid_answers(survey))

    sign_in(staff.email)
    page.goto(f"/surveys/{survey.pk}/results/")
    assert page.locator("svg").count() >= 1
    assert "Хочу больше разборов клинических случаев." in page.content()
    at_both_widths("survey-results-ru")

    page.locator("button.lang[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("svg").count() >= 1
    assert "CSV" in page.content()
    at_both_widths("survey-results-en")
