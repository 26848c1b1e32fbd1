"""One response per doctor under a race, on the real PostgreSQL: 20 answers at the same instant, one recorded."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from societies import surveys
from societies.models import Answer, AnswerSet, SurveyParticipation

from ..concurrency import run_at_once
from ..factories import DoctorProfileFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race is PostgreSQL's; CI runs it there"),
]


def test_twenty_simultaneous_answers_of_one_doctor_record_one(society, society_staff, psychiatry):
    today = timezone.localdate()
    survey = surveys.survey_create(
        society=society,
        actor=society_staff,
        title="Потребности",
        specialties=[psychiatry],
        opens_on=today,
        closes_on=today + timedelta(days=5),
    )
    question = surveys.question_add(survey=survey, actor=society_staff, kind="scale", text="Оценка", required=True)
    surveys.survey_open(survey=survey, actor=society_staff)
    doctor = DoctorProfileFactory(specialties=[psychiatry]).user

    outcomes = run_at_once(
        [lambda: surveys.survey_answer(survey=survey, doctor=doctor, answers=[{"question": question.pk, "value": 3}])]
        * 20
    )

    assert Counter(kind for kind, _ in outcomes) == {"ok": 1, "survey_already_answered": 19}, outcomes
    assert SurveyParticipation.objects.filter(survey=survey).count() == 1
    assert AnswerSet.objects.filter(survey=survey).count() == 1
    assert Answer.objects.filter(question=question).count() == 1
