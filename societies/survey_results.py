"""The results of a needs survey: counted per group (the whole survey, each specialty) only once the group has at
least MIN_GROUP responses, drawn as horizontal bars in SVG, and written as CSV."""

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import Specialty
from nmo_portal.spreadsheets import csv_cell

from .models import SCALE_MAX, SCALE_MIN, Answer, AnswerSet, Question, Survey
from .surveys import MIN_GROUP


@dataclass
class Row:
    label: str
    count: int
    percent: float


@dataclass
class QuestionResult:
    question: Question
    rows: list[Row] = field(default_factory=list)
    average: float | None = None
    answered: int = 0
    texts: list[str] = field(default_factory=list)

    @property
    def chart(self) -> SafeString:
        return bar_chart(self.rows)


@dataclass
class GroupResult:
    """The results of one group of responses: the whole survey (specialty None) or one specialty."""

    specialty: Specialty | None
    responses: int
    questions: list[QuestionResult] = field(default_factory=list)

    @property
    def too_few(self) -> bool:
        return self.responses < MIN_GROUP


def _group(survey: Survey, questions: list[Question], specialty: Specialty | None) -> GroupResult:
    sets = AnswerSet.objects.filter(survey=survey)
    if specialty is not None:
        sets = sets.filter(specialty=specialty)
    responses = sets.count()
    group = GroupResult(specialty=specialty, responses=responses)
    if responses < MIN_GROUP:
        return group
    answers = Answer.objects.filter(answer_set__in=sets.values("pk"))
    option_counts = Counter(
        {
            row["option"]: row["n"]
            for row in answers.filter(option__isnull=False)
            .values("option")
            .annotate(n=Count("answer_set", distinct=True))
        }
    )
    answered = Counter(
        {row["question"]: row["n"] for row in answers.values("question").annotate(n=Count("answer_set", distinct=True))}
    )
    numbers: dict[int, Counter[int]] = defaultdict(Counter)
    for row in answers.filter(number__isnull=False).values("question", "number").annotate(n=Count("pk")):
        numbers[row["question"]][row["number"]] = row["n"]
    texts: dict[int, list[str]] = defaultdict(list)
    # sorted by their text: never in the order they were written
    for question_id, text in answers.exclude(text="").order_by("question", "text").values_list("question", "text"):
        texts[question_id].append(text)
    for question in questions:
        result = QuestionResult(question=question, answered=answered[question.pk])
        if question.has_options:
            result.rows = [
                Row(option.text, option_counts[option.pk], 100 * option_counts[option.pk] / responses)
                for option in question.options.all()
            ]
        elif question.kind == Question.Kind.SCALE:
            counts = numbers[question.pk]
            total = sum(counts.values())
            result.rows = [Row(str(n), counts[n], 100 * counts[n] / responses) for n in range(SCALE_MIN, SCALE_MAX + 1)]
            result.average = sum(n * c for n, c in counts.items()) / total if total else None
        else:
            result.texts = texts[question.pk]
        group.questions.append(result)
    return group


def survey_results(survey: Survey) -> list[GroupResult]:
    """The whole survey, then each of its specialties; a group of fewer than MIN_GROUP responses is only counted."""
    questions = list(survey.questions.prefetch_related("options"))
    groups = [_group(survey, questions, None)]
    groups += [_group(survey, questions, specialty) for specialty in survey.specialties.order_by("code")]
    return groups


CHART_WIDTH = 600
BAR_HEIGHT = 22
LABEL_WIDTH = 220
LABEL_CHARS = 26


def bar_chart(rows: list[Row]) -> SafeString:
    """A horizontal bar chart of `rows` as inline SVG (classes, no style attributes): label, bar, count and
    percentage per row."""
    if not rows:
        return SafeString("")
    height = BAR_HEIGHT * len(rows) + 4
    span = CHART_WIDTH - LABEL_WIDTH - 110
    bars = format_html_join(
        "",
        '<g><title>{}</title><text class="chart-label" x="0" y="{}">{}</text>'
        '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}"></rect>'
        '<text class="chart-value" x="{}" y="{}">{} ({}%)</text></g>',
        (
            (
                row.label,
                index * BAR_HEIGHT + 16,
                # about 26 Cyrillic characters fit the label's column at the chart's font size; the whole label is
                # the bar's title (shown on hover) and in the chart's aria-label
                row.label if len(row.label) <= LABEL_CHARS else row.label[: LABEL_CHARS - 1] + "…",
                LABEL_WIDTH,
                index * BAR_HEIGHT + 4,
                round(span * row.percent / 100, 1),
                BAR_HEIGHT - 6,
                LABEL_WIDTH + round(span * row.percent / 100, 1) + 6,
                index * BAR_HEIGHT + 16,
                row.count,
                round(row.percent),
            )
            for index, row in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        CHART_WIDTH,
        height,
        "; ".join(f"{row.label}: {row.count}" for row in rows),
        bars,
    )


def results_csv(survey: Survey) -> str:
    """The results of each group of at least MIN_GROUP responses, one row per option, scale value or text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Group"), _("Responses"), _("Question"), _("Kind"), _("Answer"), _("Count"), _("Percent")])
    for group in survey_results(survey):
        name = group.specialty.code if group.specialty else _("All")
        if group.too_few:
            writer.writerow([name, group.responses, _("Too few responses to show"), "", "", "", ""])
            continue
        for result in group.questions:
            q = result.question
            for row in result.rows:
                writer.writerow(
                    [name, group.responses, q.text, q.get_kind_display(), row.label, row.count, f"{row.percent:.1f}"]
                )
            for text in result.texts:
                writer.writerow([name, group.responses, q.text, q.get_kind_display(), csv_cell(text), "", ""])
    return out.getvalue()
