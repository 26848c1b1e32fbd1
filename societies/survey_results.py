"""The results of a needs survey: counted per group (the whole survey, each specialty) only once the group has at
least MIN_GROUP responses, drawn as horizontal bars in SVG, and written as CSV."""

import csv
import html
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

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

    @property
    def text_items(self) -> SafeString:
        return text_items(self.texts)


@dataclass
class GroupResult:
    """The results of one group of responses: the whole survey (specialty None) or one specialty."""

    specialty: Specialty | None
    responses: int
    questions: list[QuestionResult] = field(default_factory=list)

    @property
    def too_few(self) -> bool:
        return self.responses < MIN_GROUP


@dataclass
class Figures:
    """What a group's results are drawn from: its responses, the responses that chose each option, the answers of
    each number of each scale, the responses that answered each question, and each question's texts in order."""

    responses: int = 0
    chosen: Counter[int] = field(default_factory=Counter)
    numbers: Counter[tuple[int, int]] = field(default_factory=Counter)
    answered: Counter[int] = field(default_factory=Counter)
    texts: defaultdict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def survey_figures(survey: Survey) -> tuple[Figures, defaultdict[int | None, Figures]]:
    """The figures of the whole survey and of each specialty its responses count in, from four grouped queries
    whatever the number of questions and specialties. A specialty's responses are a part of the whole's, so each
    row of a query is added to the whole and to its specialty."""
    whole = Figures()
    by_specialty: defaultdict[int | None, Figures] = defaultdict(Figures)
    for row in AnswerSet.objects.filter(survey=survey).values("specialty").annotate(n=Count("pk")):
        for figures in (whole, by_specialty[row["specialty"]]):
            figures.responses += row["n"]
    if whole.responses < MIN_GROUP:  # no group is shown: nothing more to count
        return whole, by_specialty
    # The answers' own survey reads them from answer_survey_idx; their response's lets the join take the survey's
    # responses by their index rather than all of them.
    answers = Answer.objects.filter(survey=survey, answer_set__survey=survey)
    for row in (
        answers.filter(Q(option__isnull=False) | Q(number__isnull=False))
        .values("answer_set__specialty", "question", "option", "number")
        .annotate(sets=Count("answer_set", distinct=True), rows=Count("*"))
    ):
        for figures in (whole, by_specialty[row["answer_set__specialty"]]):
            if row["option"] is not None:
                figures.chosen[row["option"]] += row["sets"]
            if row["number"] is not None:
                figures.numbers[row["question"], row["number"]] += row["rows"]
    for row in answers.values("answer_set__specialty", "question").annotate(n=Count("answer_set", distinct=True)):
        for figures in (whole, by_specialty[row["answer_set__specialty"]]):
            figures.answered[row["question"]] += row["n"]
    # sorted by their text: never in the order they were written
    texts = answers.exclude(text="").order_by("question", "text")
    for specialty_id, question_id, text in texts.values_list("answer_set__specialty", "question", "text"):
        for figures in (whole, by_specialty[specialty_id]):
            figures.texts[question_id].append(text)
    return whole, by_specialty


def _group(specialty: Specialty | None, figures: Figures, questions: list[Question]) -> GroupResult:
    responses = figures.responses
    group = GroupResult(specialty=specialty, responses=responses)
    if responses < MIN_GROUP:
        return group
    for question in questions:
        result = QuestionResult(question=question, answered=figures.answered[question.pk])
        if question.has_options:
            chosen = figures.chosen
            result.rows = [
                Row(option.text, chosen[option.pk], 100 * chosen[option.pk] / responses)
                for option in question.options.all()
            ]
        elif question.kind == Question.Kind.SCALE:
            counts = {n: figures.numbers[question.pk, n] for n in range(SCALE_MIN, SCALE_MAX + 1)}
            total = sum(counts.values())
            result.rows = [Row(str(n), c, 100 * c / responses) for n, c in counts.items()]
            result.average = sum(n * c for n, c in counts.items()) / total if total else None
        else:
            result.texts = figures.texts[question.pk]
        group.questions.append(result)
    return group


def survey_results(survey: Survey) -> list[GroupResult]:
    """The whole survey, then each of its specialties; a group of fewer than MIN_GROUP responses is only counted."""
    questions = list(survey.questions.prefetch_related("options"))
    whole, by_specialty = survey_figures(survey)
    groups = [_group(None, whole, questions)]
    groups += [_group(sp, by_specialty[sp.pk], questions) for sp in survey.specialties.order_by("code")]
    return groups


CHART_WIDTH = 600
BAR_HEIGHT = 22
LABEL_WIDTH = 220
LABEL_CHARS = 26


def text_items(texts: list[str]) -> SafeString:
    """The texts as `<li>{{ text|linebreaksbr }}</li>` each, the same markup, without the template's cost per item:
    a text question of a survey of 5,000 responses holds thousands of them (escaped as django.utils.html.escape
    does, line breaks as django.utils.text.normalize_newlines sees them)."""
    return SafeString(
        "".join(
            "<li>" + html.escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>") + "</li>"
            for text in texts
        )
    )


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
    writer.writerow(
        [
            _("Group"),
            _("Responses"),
            _("Question"),
            _("Kind"),
            pgettext("survey results column", "Answer"),
            _("Count"),
            _("Percent"),
        ]
    )
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
