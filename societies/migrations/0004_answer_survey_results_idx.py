"""Each answer names its survey (its response's, written again), and the index answer_survey_idx (survey, question,
option, number, response) lets the results count a survey's answers from the index alone, instead of finding them
through the survey's responses: at national scale that was a sequential scan of every survey's answers (issue 18).

The column is added empty (nullable: no rewrite of the table), filled from the responses in one statement, then
made NOT NULL; the index is built CONCURRENTLY on PostgreSQL (hence `atomic = False`), plainly on SQLite. Answers are
written only by societies.surveys.survey_answer, which fills the column from this release on."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from nmo_portal.migration_operations import AddIndexConcurrentlyOnPostgres


def fill_survey(apps: Any, schema_editor: Any) -> None:
    Answer = apps.get_model("societies", "Answer")
    AnswerSet = apps.get_model("societies", "AnswerSet")
    of_its_response = AnswerSet.objects.filter(pk=OuterRef("answer_set_id")).values("survey_id")[:1]
    Answer.objects.filter(survey__isnull=True).update(survey_id=Subquery(of_its_response))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("societies", "0003_prepared_report"),
    ]

    operations = [
        migrations.AddField(
            model_name="answer",
            name="survey",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="societies.survey",
                verbose_name="survey",
            ),
        ),
        migrations.RunPython(fill_survey, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name="answer",
            name="survey",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="societies.survey",
                verbose_name="survey",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="answer",
            index=models.Index(
                fields=["survey", "question", "option", "number", "answer_set"], name="answer_survey_idx"
            ),
        ),
    ]
