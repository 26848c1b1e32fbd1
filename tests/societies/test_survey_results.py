"""The results of a survey of several specialties, counted by a few grouped queries over the survey's own answers:
the same figures, texts and CSV as counting each group's answers on its own; groups under MIN_GROUP only counted.
And every answer the service records names its survey (the results read answers by it)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from societies import survey_results, surveys
from societies.models import Answer, AnswerSet

from ..factories import DoctorProfileFactory, specialty

pytestmark = pytest.mark.django_db


@pytest.fixture
def psychotherapy():
    return specialty("31.08.22")


@pytest.fixture
def survey(society, society_staff, psychiatry, narcology, psychotherapy):
    """Psychiatry (6 responses), addiction psychiatry (2: too few to show) and psychotherapy (none); a question
    of each kind and an optional single choice some leave unanswered."""
    society.specialties.add(psychotherapy)
    today = timezone.localdate()
    made = surveys.survey_create(
        society=society,
        actor=society_staff,
        title="Потребности психиатров",
        specialties=[psychiatry, narcology, psychotherapy],
        opens_on=today,
        closes_on=today + timedelta(days=10),
    )
    add = surveys.question_add
    add(
        survey=made,
        actor=society_staff,
        kind="single",
        text="Формат",
        required=True,
        options=["Очно", "Онлайн", "Смешанный"],
    )
    add(survey=made, actor=society_staff, kind="multiple", text="Темы", options=["Диагностика", "Терапия", "Право"])
    add(survey=made, actor=society_staff, kind="scale", text="Доступность")
    add(survey=made, actor=society_staff, kind="text", text="Пожелания")
    add(survey=made, actor=society_staff, kind="case", text="Трудный случай")
    add(survey=made, actor=society_staff, kind="single", text="Стаж", options=["До 5 лет", "5–10 лет", "Больше 10"])
    surveys.survey_open(survey=made, actor=society_staff)
    return made


# (single, multiple, scale, text, case, seniority) of each response; None or "" is left unanswered
PSYCHIATRY = [
    (0, [0, 1], 5, "Больше онлайн-курсов", "Пациент с <резистентной> депрессией\nи тревогой", 0),
    (1, [1], 4, "", "=СУММ(A1)", None),
    (0, [], 4, "Вебинары по вечерам", "", 2),
    (2, [0, 1, 2], None, "Больше онлайн-курсов", "Аутизм у взрослых", 1),
    (0, [2], 1, "", "", 0),
    (1, [0], 3, "Короткие разборы", "Бред ревности", None),
]
NARCOLOGY = [
    (0, [1], 2, "Наркология: мало курсов", "", 0),
    (1, [], 5, "", "Абстинентный синдром", 2),
]


def answer(survey, doctor, single, multiple, scale, text, case, seniority):
    questions = list(survey.questions.prefetch_related("options"))
    options = [[o.pk for o in q.options.all()] for q in questions]
    values = [
        options[0][single],
        [options[1][i] for i in multiple],
        scale,
        text,
        case,
        None if seniority is None else options[5][seniority],
    ]
    answers = [{"question": q.pk, "value": v} for q, v in zip(questions, values, strict=True)]
    surveys.survey_answer(survey=survey, doctor=doctor, answers=answers)


@pytest.fixture
def answered(survey, psychiatry, narcology):
    for row in PSYCHIATRY:
        answer(survey, DoctorProfileFactory(specialties=[psychiatry]).user, *row)
    for row in NARCOLOGY:
        answer(survey, DoctorProfileFactory(specialties=[narcology]).user, *row)
    return survey


def counted_group_by_group(survey):
    """The results as they were counted before: each group's answers found through its responses, two queries
    per group; the figures the grouped counting must give."""
    questions = list(survey.questions.prefetch_related("options"))
    groups = []
    for group_specialty in [None, *survey.specialties.order_by("code")]:
        sets = AnswerSet.objects.filter(survey=survey)
        if group_specialty is not None:
            sets = sets.filter(specialty=group_specialty)
        responses = sets.count()
        group = survey_results.GroupResult(specialty=group_specialty, responses=responses)
        groups.append(group)
        if responses < surveys.MIN_GROUP:
            continue
        answers = Answer.objects.filter(answer_set__in=sets.values("pk"))
        for question in questions:
            mine = answers.filter(question=question)
            result = survey_results.QuestionResult(
                question=question, answered=mine.values("answer_set").distinct().count()
            )
            if question.has_options:
                chosen = Counter(
                    dict(mine.values_list("option").annotate(n=Count("answer_set", distinct=True)).order_by())
                )
                result.rows = [
                    survey_results.Row(o.text, chosen[o.pk], 100 * chosen[o.pk] / responses)
                    for o in question.options.all()
                ]
            elif question.kind == "scale":
                numbers = Counter(n for n in mine.values_list("number", flat=True) if n is not None)
                result.rows = [
                    survey_results.Row(str(n), numbers[n], 100 * numbers[n] / responses) for n in range(1, 6)
                ]
                total = sum(numbers.values())
                result.average = sum(n * c for n, c in numbers.items()) / total if total else None
            else:
                result.texts = list(mine.exclude(text="").order_by("text").values_list("text", flat=True))
            group.questions.append(result)
    return groups


def test_the_results_are_those_of_counting_each_group_on_its_own(answered, psychiatry, narcology, psychotherapy):
    groups = survey_results.survey_results(answered)
    assert groups == counted_group_by_group(answered)
    assert [(g.specialty, g.responses, g.too_few) for g in groups] == [
        (None, 8, False),
        (psychiatry, 6, False),
        (narcology, 2, True),
        (psychotherapy, 0, True),
    ]
    assert groups[2].questions == groups[3].questions == []  # too few: only counted

    whole, psychiatrists = groups[0].questions, groups[1].questions
    assert [(r.count, r.percent) for r in whole[0].rows] == [(4, 50.0), (3, 37.5), (1, 12.5)]
    assert [r.count for r in whole[1].rows] == [3, 4, 2]  # several options per response
    assert (whole[1].answered, psychiatrists[1].answered) == (6, 5)  # by responses, not by options chosen
    assert [r.count for r in psychiatrists[2].rows] == [1, 0, 1, 2, 1]
    assert (psychiatrists[2].answered, psychiatrists[2].average) == (5, pytest.approx(17 / 5))
    assert whole[2].average == pytest.approx(24 / 7)
    assert whole[3].texts == ["Больше онлайн-курсов", "Больше онлайн-курсов", "Вебинары по вечерам",
                              "Короткие разборы", "Наркология: мало курсов"]  # fmt: skip
    assert "Абстинентный синдром" in whole[4].texts
    assert "Абстинентный синдром" not in psychiatrists[4].texts  # the hidden group's text is only in the whole
    assert (whole[5].answered, psychiatrists[5].answered) == (6, 4)


def test_the_page_and_the_csv_show_the_same_figures(client, answered, society_staff):
    client.force_login(society_staff)
    page = client.get(reverse("societies:survey_results", args=[answered.pk])).content.decode()
    assert page.count("Слишком мало ответов") == 2
    assert "<li>Пациент с &lt;резистентной&gt; депрессией<br>и тревогой</li>" in page
    with override("ru"):
        csv = survey_results.results_csv(answered)
    assert csv.splitlines() == EXPECTED_CSV.splitlines()


def test_the_answers_name_their_survey(answered, society, society_staff, psychiatry):
    today = timezone.localdate()
    other = surveys.survey_create(
        society=society,
        actor=society_staff,
        title="Второй опрос",
        specialties=[psychiatry],
        opens_on=today,
        closes_on=today + timedelta(days=3),
    )
    surveys.question_add(survey=other, actor=society_staff, kind="scale", text="Доступность")
    surveys.survey_open(survey=other, actor=society_staff)
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user
    question = other.questions.get()
    surveys.survey_answer(survey=other, doctor=doctor, answers=[{"question": question.pk, "value": 3}])

    rows = list(Answer.objects.values_list("survey", "answer_set__survey"))
    assert len(rows) > 8
    assert all(survey == of_its_response for survey, of_its_response in rows)
    assert Answer.objects.filter(survey=other).count() == 1


def test_the_texts_are_the_markup_the_template_filter_made():
    texts = ["Пациент с <резистентной> депрессией\r\nи «тревогой»", "a & b\rc\r\r\nd", 'O\'Brien "x"\n\n', ""]
    by_the_filter = Template("{% for t in texts %}<li>{{ t|linebreaksbr }}</li>{% endfor %}").render(
        Context({"texts": texts})
    )
    assert survey_results.text_items(texts) == by_the_filter
    assert survey_results.text_items([]) == ""


EXPECTED_CSV = """\
Группа,Ответов,Вопрос,Тип,Ответ,Число,Процент
Все,8,Формат,Один вариант,Очно,4,50.0
Все,8,Формат,Один вариант,Онлайн,3,37.5
Все,8,Формат,Один вариант,Смешанный,1,12.5
Все,8,Темы,Несколько вариантов,Диагностика,3,37.5
Все,8,Темы,Несколько вариантов,Терапия,4,50.0
Все,8,Темы,Несколько вариантов,Право,2,25.0
Все,8,Доступность,Шкала от 1 до 5,1,1,12.5
Все,8,Доступность,Шкала от 1 до 5,2,1,12.5
Все,8,Доступность,Шкала от 1 до 5,3,1,12.5
Все,8,Доступность,Шкала от 1 до 5,4,2,25.0
Все,8,Доступность,Шкала от 1 до 5,5,2,25.0
Все,8,Пожелания,Свободный ответ,Больше онлайн-курсов,,
Все,8,Пожелания,Свободный ответ,Больше онлайн-курсов,,
Все,8,Пожелания,Свободный ответ,Вебинары по вечерам,,
Все,8,Пожелания,Свободный ответ,Короткие разборы,,
Все,8,Пожелания,Свободный ответ,Наркология: мало курсов,,
Все,8,Трудный случай,Трудный случай из вашей практики,'=СУММ(A1),,
Все,8,Трудный случай,Трудный случай из вашей практики,Абстинентный синдром,,
Все,8,Трудный случай,Трудный случай из вашей практики,Аутизм у взрослых,,
Все,8,Трудный случай,Трудный случай из вашей практики,Бред ревности,,
Все,8,Трудный случай,Трудный случай из вашей практики,"Пациент с <резистентной> депрессией
и тревогой",,
Все,8,Стаж,Один вариант,До 5 лет,3,37.5
Все,8,Стаж,Один вариант,5–10 лет,1,12.5
Все,8,Стаж,Один вариант,Больше 10,2,25.0
31.08.20,6,Формат,Один вариант,Очно,3,50.0
31.08.20,6,Формат,Один вариант,Онлайн,2,33.3
31.08.20,6,Формат,Один вариант,Смешанный,1,16.7
31.08.20,6,Темы,Несколько вариантов,Диагностика,3,50.0
31.08.20,6,Темы,Несколько вариантов,Терапия,3,50.0
31.08.20,6,Темы,Несколько вариантов,Право,2,33.3
31.08.20,6,Доступность,Шкала от 1 до 5,1,1,16.7
31.08.20,6,Доступность,Шкала от 1 до 5,2,0,0.0
31.08.20,6,Доступность,Шкала от 1 до 5,3,1,16.7
31.08.20,6,Доступность,Шкала от 1 до 5,4,2,33.3
31.08.20,6,Доступность,Шкала от 1 до 5,5,1,16.7
31.08.20,6,Пожелания,Свободный ответ,Больше онлайн-курсов,,
31.08.20,6,Пожелания,Свободный ответ,Больше онлайн-курсов,,
31.08.20,6,Пожелания,Свободный ответ,Вебинары по вечерам,,
31.08.20,6,Пожелания,Свободный ответ,Короткие разборы,,
31.08.20,6,Трудный случай,Трудный случай из вашей практики,'=СУММ(A1),,
31.08.20,6,Трудный случай,Трудный случай из вашей практики,Аутизм у взрослых,,
31.08.20,6,Трудный случай,Трудный случай из вашей практики,Бред ревности,,
31.08.20,6,Трудный случай,Трудный случай из вашей практики,"Пациент с <резистентной> депрессией
и тревогой",,
31.08.20,6,Стаж,Один вариант,До 5 лет,2,33.3
31.08.20,6,Стаж,Один вариант,5–10 лет,1,16.7
31.08.20,6,Стаж,Один вариант,Больше 10,1,16.7
31.08.21,2,"Слишком мало ответов, чтобы их показать",,,,
31.08.22,0,"Слишком мало ответов, чтобы их показать",,,,
"""
