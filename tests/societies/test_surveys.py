"""Needs surveys: the builder of society staff (and nobody else's), answers recorded once and kept apart from who
gave them, refusals with stable codes, results only for groups of at least five, seen by the society's staff and,
once published, by the providers of its specialties."""

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import models
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from nmo_portal.errors import PortalError
from review.models import Status
from societies import survey_results, survey_template, surveys
from societies.models import Answer, AnswerSet, Question, Survey, SurveyInvitation, SurveyParticipation

from ..factories import DoctorProfileFactory, EventFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(society, society_staff, psychiatry):
    """An open psychiatry survey with one question of each kind."""
    today = timezone.localdate()
    made = surveys.survey_create(
        society=society,
        actor=society_staff,
        title="Потребности психиатров",
        specialties=[psychiatry],
        opens_on=today,
        closes_on=today + timedelta(days=10),
    )
    add = surveys.question_add
    add(survey=made, actor=society_staff, kind="single", text="Формат", required=True, options=["Очно", "Онлайн"])
    add(survey=made, actor=society_staff, kind="multiple", text="Темы", options=["Диагностика", "Терапия", "Право"])
    add(survey=made, actor=society_staff, kind="scale", text="Доступность")
    add(survey=made, actor=society_staff, kind="case", text="Трудный случай")
    surveys.survey_open(survey=made, actor=society_staff)
    return made


def doctor_of(specialty):
    return DoctorProfileFactory(specialties=[specialty]).user


def answers_for(survey, *, single=0, multiple=(0,), scale=4, text="Пациент с резистентной депрессией"):
    questions = list(survey.questions.prefetch_related("options"))
    by_kind = {q.kind: q for q in questions}
    options = {kind: [o.pk for o in by_kind[kind].options.all()] for kind in ("single", "multiple")}
    return [
        {"question": by_kind["single"].pk, "value": options["single"][single]},
        {"question": by_kind["multiple"].pk, "value": [options["multiple"][i] for i in multiple]},
        {"question": by_kind["scale"].pk, "value": scale},
        {"question": by_kind["case"].pk, "value": text},
    ]


def test_opening_invites_each_doctor_of_its_specialties_once_in_their_language(survey, psychiatry, cardiology):
    ru, en = doctor_of(psychiatry), doctor_of(psychiatry)
    User.objects.filter(pk=en.pk).update(language="en")
    doctor_of(cardiology)
    mail.outbox.clear()

    assert surveys.invitations_send(survey.pk) == 2
    assert surveys.invitations_send(survey.pk) == 0  # once per doctor and survey

    assert {m.to[0] for m in mail.outbox} == {ru.email, en.email}
    english = next(m for m in mail.outbox if m.to == [en.email])
    assert "Survey: Потребности психиатров" in english.subject
    assert reverse("societies:survey_answer", args=[survey.pk]) in english.body
    assert SurveyInvitation.objects.filter(survey=survey).count() == 2


def test_a_doctor_answers_once_and_the_card_leaves_the_plan(client, survey, psychiatry):
    doctor = doctor_of(psychiatry)
    client.force_login(doctor)
    url = reverse("api:api-societies:surveys")
    assert client.get(url).json() == [
        {
            "id": survey.pk,
            "society": client.get(url).json()[0]["society"],
            "title": "Потребности психиатров",
            "intro": "",
            "opens_on": survey.opens_on.isoformat(),
            "closes_on": survey.closes_on.isoformat(),
            "answered": False,
        }
    ]
    detail = client.get(reverse("api:api-societies:survey", args=[survey.pk])).json()
    assert [q["kind"] for q in detail["questions"]] == ["single", "multiple", "scale", "case"]
    assert [o["text"] for o in detail["questions"][0]["options"]] == ["Очно", "Онлайн"]
    plan = client.get(reverse("learning_plan:plan")).content.decode()
    assert reverse("societies:survey_answer", args=[survey.pk]) in plan

    post = reverse("api:api-societies:survey_responses", args=[survey.pk])
    response = client.post(post, {"answers": answers_for(survey)}, content_type="application/json")
    assert response.status_code == 201
    again = client.post(post, {"answers": answers_for(survey)}, content_type="application/json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "survey_already_answered")

    assert client.get(url).json()[0]["answered"] is True
    assert (
        reverse("societies:survey_answer", args=[survey.pk])
        not in client.get(reverse("learning_plan:plan")).content.decode()
    )
    assert AnswerSet.objects.count() == 1
    assert SurveyParticipation.objects.count() == 1


def test_refusals_change_nothing(client, survey, society_staff, psychiatry, cardiology):
    post = reverse("api:api-societies:survey_responses", args=[survey.pk])
    client.force_login(doctor_of(cardiology))
    response = client.post(post, {"answers": answers_for(survey)}, content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "survey_not_for_you")
    assert client.get(reverse("api:api-societies:survey", args=[survey.pk])).status_code == 404

    client.force_login(doctor_of(psychiatry))
    question = survey.questions.get(kind="single")
    foreign = survey.questions.get(kind="multiple").options.first()
    bad_values = [
        [{"question": question.pk, "value": foreign.pk}],  # an option of another question
        answers_for(survey, scale=6),
        answers_for(survey, scale=True),
        answers_for(survey, text="x" * 5001),
        answers_for(survey, text="a\x00b"),
        answers_for(survey)[1:],  # the required question left out
        "not a list",
    ]
    for answers in bad_values:
        response = client.post(post, {"answers": answers}, content_type="application/json")
        assert (response.status_code, response.json()["error"]["code"]) == (400, "survey_answer_invalid"), answers
    assert not AnswerSet.objects.exists()
    assert not SurveyParticipation.objects.exists()

    surveys.survey_close(survey=survey, actor=society_staff)
    response = client.post(post, {"answers": answers_for(survey)}, content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "survey_closed")
    assert not Answer.objects.exists()


def test_nothing_leads_from_an_answer_to_a_person(survey, psychiatry):
    for model in (AnswerSet, Answer):
        fields = model._meta.get_fields()
        assert isinstance(model._meta.pk, models.UUIDField)
        assert model._meta.pk.default is uuid.uuid4
        assert not [f for f in fields if isinstance(f, models.DateField | models.DateTimeField)]
        related = {f.related_model for f in fields if f.is_relation}
        assert User not in related
        assert SurveyParticipation not in related
        assert not model._meta.ordering
    assert {f.name for f in AnswerSet._meta.get_fields() if f.concrete} == {"id", "survey", "specialty"}
    assert {f.name for f in Answer._meta.get_fields() if f.concrete} == {
        "id",
        "answer_set",
        "survey",  # its response's, written again for the results' index
        "question",
        "option",
        "number",
        "text",
    }

    texts = [f"Случай {n}" for n in "ДГВБА"]  # answered in this order
    for text in texts:
        surveys.survey_answer(survey=survey, doctor=doctor_of(psychiatry), answers=answers_for(survey, text=text))
    results = survey_results.survey_results(survey)[0]
    case = next(r for r in results.questions if r.question.kind == "case")
    assert case.texts == sorted(texts) != texts  # sorted, not in the order of who answered first
    # read back as stored, they come in the order of their random keys, not of insertion
    stored = list(AnswerSet.objects.order_by("pk").values_list("pk", flat=True))
    assert stored == sorted(stored)


def test_results_only_for_groups_of_five(client, survey, society, society_staff, psychiatry, narcology):
    surveys.survey_edit  # noqa: B018 - the survey is open: its specialties stay those it opened with
    for _n in range(4):
        surveys.survey_answer(survey=survey, doctor=doctor_of(psychiatry), answers=answers_for(survey))
    client.force_login(society_staff)
    page = client.get(reverse("societies:survey_results", args=[survey.pk]))
    assert page.status_code == 200
    assert "Слишком мало ответов" in page.content.decode()
    assert "<svg" not in page.content.decode()
    assert (
        "Слишком мало ответов" in client.get(reverse("societies:survey_results_csv", args=[survey.pk])).content.decode()
    )

    surveys.survey_answer(survey=survey, doctor=doctor_of(psychiatry), answers=answers_for(survey, single=1, scale=2))
    page = client.get(reverse("societies:survey_results", args=[survey.pk])).content.decode()
    assert "<svg" in page
    assert 'class="chart-bar"' in page
    whole = survey_results.survey_results(survey)[0]
    single = next(r for r in whole.questions if r.question.kind == "single")
    assert [(row.label, row.count, row.percent) for row in single.rows] == [("Очно", 4, 80.0), ("Онлайн", 1, 20.0)]
    scale = next(r for r in whole.questions if r.question.kind == "scale")
    assert scale.average == pytest.approx((4 * 4 + 2) / 5)
    csv = client.get(reverse("societies:survey_results_csv", args=[survey.pk])).content.decode()
    assert "Очно,4,80.0" in csv


def test_results_are_the_societys_and_published_ones_its_specialties_providers(
    client, survey, society_staff, other_staff, psychiatry, cardiology
):
    url = reverse("societies:survey_results", args=[survey.pk])
    provider = MembershipFactory(organization=OrganizationFactory(kind="provider"), role=Membership.Role.ADMIN)
    EventFactory(organization=provider.organization, status=Status.SUBMITTED, specialties=[psychiatry])
    cardiologist = MembershipFactory(organization=OrganizationFactory(kind="provider"))
    EventFactory(organization=cardiologist.organization, approved=True, specialties=[cardiology])
    drafting = MembershipFactory(organization=OrganizationFactory(kind="provider"))
    EventFactory(organization=drafting.organization, status=Status.DRAFT, specialties=[psychiatry])

    def status_of(user):
        client.force_login(user)
        return client.get(url).status_code

    assert status_of(other_staff) == 404  # another society's staff
    assert status_of(provider.user) == 404  # not published yet
    assert status_of(doctor_of(psychiatry)) == 404
    surveys.survey_publish_results(survey=survey, actor=society_staff)
    assert status_of(provider.user) == 200
    assert status_of(cardiologist.user) == 404  # of other specialties
    assert status_of(drafting.user) == 404  # nothing submitted
    assert status_of(other_staff) == 404
    with pytest.raises(PortalError):
        surveys.survey_close(survey=survey, actor=other_staff)


def test_the_builder_is_the_societys_and_only_while_a_draft(client, society, society_staff, other_staff):
    draft = survey_template.survey_from_template(society=society, actor=society_staff)
    assert draft.is_draft
    assert draft.questions.count() == len(survey_template.TEMPLATE_QUESTIONS)
    assert set(draft.questions.values_list("kind", flat=True)) == set(Question.Kind.values)
    client.force_login(other_staff)
    assert client.get(reverse("societies:survey_builder", args=[society.pk, draft.pk])).status_code == 404
    with pytest.raises(PortalError) as refused:
        surveys.question_add(survey=draft, actor=other_staff, kind="text", text="?")
    assert refused.value.status == 404

    client.force_login(society_staff)
    page = client.post(
        reverse("societies:survey_builder", args=[society.pk, draft.pk]),
        {"kind": "single", "text": "Один вариант?", "options": "Только один"},
    )
    assert page.status_code == 400
    assert "не меньше двух вариантов" in page.content.decode()
    response = client.post(reverse("societies:survey_open", args=[society.pk, draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Survey.Status.OPEN
    with pytest.raises(PortalError) as refused:
        surveys.question_add(survey=draft, actor=society_staff, kind="text", text="Ещё?")
    assert refused.value.code == "survey_not_draft"


def test_a_long_option_is_cut_to_its_column_in_the_chart_and_named_whole_on_hover():
    long = "Клинические рекомендации и стандарты оказания помощи"
    svg = str(
        survey_results.bar_chart(
            [survey_results.Row(label=long, count=3, percent=60.0), survey_results.Row("Вебинары", 2, 40.0)]
        )
    )
    assert f"<title>{long}</title>" in svg
    assert ">Клинические рекомендации …</text>" in svg  # 26 characters: it no longer runs into the counts
    assert ">Вебинары</text>" in svg
    assert 'aria-label="Клинические рекомендации и стандарты оказания помощи: 3; Вебинары: 2"' in svg
