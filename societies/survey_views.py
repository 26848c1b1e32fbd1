"""Pages of needs surveys: the society's builder (list, new, from the template, details, questions, open, close,
publish the results), the doctor's answer page, and the results with their charts and CSV."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.requests import signed_in_user
from nmo_portal.errors import PortalError
from nmo_portal.views import refusal_shown

from . import selectors, services, survey_template, surveys
from . import survey_results as results
from .forms import QuestionForm, SurveyForm
from .models import Question, Survey
from .views import _posted, _society_for_staff

# Bounds of what the answer page reads from a form before the service checks it.
FIELD_MAX = 12  # an id as digits
VALUES_MAX = 50


def _survey_of(society: Organization, pk: int) -> Survey:
    """Only the society's own: another society's survey is not found here."""
    return get_object_or_404(Survey.objects.prefetch_related("specialties"), pk=pk, society=society)


def _field(form: SurveyForm | QuestionForm) -> Any:
    return lambda exc: form.FIELDS_OF_CODES.get(exc.code)


@login_required
def society_surveys(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    context = {
        "society": society,
        "surveys": selectors.society_surveys(society=society),
        "specialties": society.specialties.order_by("code"),
    }
    return render(request, "societies/society_surveys.html", context)


@login_required
def survey_new(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    form = SurveyForm(_posted(request), society=society)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_field(form)) as refused:
            survey = surveys.survey_create(society=society, actor=signed_in_user(request), **form.cleaned_data)
        if not refused:
            messages.success(request, _("The draft is saved: add its questions."))
            return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)
    context = {"society": society, "form": form, "survey": None}
    return render(request, "societies/survey_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def survey_from_template(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    with refusal_shown(request) as refused:
        survey = survey_template.survey_from_template(society=society, actor=signed_in_user(request))
    if refused:
        return redirect("societies:society_surveys", society_id=society.pk)
    messages.success(request, _("A draft from the template is ready: edit it as you need."))
    return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)


@login_required
def survey_builder(request: HttpRequest, society_id: int, pk: int) -> HttpResponse:
    """The survey's page for its staff: its details, its questions (editable while a draft), and its actions."""
    society = _society_for_staff(request, society_id)
    survey = _survey_of(society, pk)
    form = QuestionForm(_posted(request))
    if request.method == "POST":
        if not survey.is_draft:
            raise Http404
        if form.is_valid():
            with refusal_shown(request, form=form, field=_field(form)) as refused:
                surveys.question_add(
                    survey=survey,
                    actor=signed_in_user(request),
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    required=form.cleaned_data["required"],
                    options=form.option_lines(),
                )
            if not refused:
                messages.success(request, _("The question is added."))
                return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)
    context = {
        "society": society,
        "survey": survey,
        "questions": survey.questions.prefetch_related("options"),
        "form": form,
        "counts": selectors.survey_staff_counts(survey),
    }
    return render(request, "societies/survey_builder.html", context, status=400 if form.errors else 200)


@login_required
def survey_edit(request: HttpRequest, society_id: int, pk: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    survey = _survey_of(society, pk)
    form = SurveyForm(_posted(request), society=society, initial=SurveyForm.initial_of(survey))
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_field(form)) as refused:
            surveys.survey_edit(survey=survey, actor=signed_in_user(request), **form.cleaned_data)
        if not refused:
            messages.success(request, _("The survey is saved."))
            return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)
    context = {"society": society, "form": form, "survey": survey}
    return render(request, "societies/survey_form.html", context, status=400 if form.errors else 200)


@login_required
def question_edit(request: HttpRequest, society_id: int, pk: int, question_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    survey = _survey_of(society, pk)
    question = get_object_or_404(Question.objects.prefetch_related("options"), pk=question_id, survey=survey)
    form = QuestionForm(_posted(request), initial=QuestionForm.initial_of(question))
    form.fields["kind"].disabled = True
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_field(form)) as refused:
            surveys.question_edit(
                question=question,
                actor=signed_in_user(request),
                text=form.cleaned_data["text"],
                required=form.cleaned_data["required"],
                options=form.option_lines(),
            )
        if not refused:
            messages.success(request, _("The question is saved."))
            return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)
    context = {"society": society, "survey": survey, "question": question, "form": form}
    return render(request, "societies/question_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def question_remove(request: HttpRequest, society_id: int, pk: int, question_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    survey = _survey_of(society, pk)
    question = get_object_or_404(Question, pk=question_id, survey=survey)
    with refusal_shown(request) as refused:
        surveys.question_remove(question=question, actor=signed_in_user(request))
    if not refused:
        messages.success(request, _("The question is removed."))
    return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)


def _survey_action(action: Any, done: str) -> Any:
    @login_required
    @require_POST
    def view(request: HttpRequest, society_id: int, pk: int) -> HttpResponse:
        society = _society_for_staff(request, society_id)
        survey = _survey_of(society, pk)
        with refusal_shown(request) as refused:
            action(survey=survey, actor=signed_in_user(request))
        if not refused:
            messages.success(request, _(done))
        return redirect("societies:survey_builder", society_id=society.pk, pk=survey.pk)

    return view


survey_open = _survey_action(surveys.survey_open, "The survey is open: doctors of its specialties are being invited.")
survey_close = _survey_action(surveys.survey_close, "The survey is closed.")
survey_publish = _survey_action(surveys.survey_publish_results, "The results are published to providers.")


def _submitted_answers(request: HttpRequest, survey: Survey) -> list[dict[str, Any]]:
    """The form's answers as the service takes them ([{"question": id, "value": …}]), each value bounded."""

    def number(raw: str) -> Any:
        return int(raw) if raw.isdigit() and len(raw) <= FIELD_MAX else raw

    answers = []
    for question in survey.questions.all():
        name = f"q{question.pk}"
        value: Any
        if question.kind == Question.Kind.MULTIPLE:
            value = [number(raw) for raw in request.POST.getlist(name)[:VALUES_MAX]]
        elif question.has_options or question.kind == Question.Kind.SCALE:
            value = number(request.POST.get(name, "")) if request.POST.get(name) else None
        else:
            value = request.POST.get(name, "")
        answers.append({"question": question.pk, "value": value})
    return answers


@login_required
def survey_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor's page of a survey open to them: its questions, answered once."""
    doctor = signed_in_user(request)
    survey = selectors.survey_for_doctor(pk=pk, doctor=doctor)
    if survey is None:
        raise Http404
    error = ""
    status = 200
    if request.method == "POST" and not survey.answered:  # type: ignore[attr-defined]
        try:
            surveys.survey_answer(survey=survey, doctor=doctor, answers=_submitted_answers(request, survey))
        except PortalError as exc:
            error, status = str(exc.message), exc.status
        else:
            messages.success(request, _("Thank you: your answers are recorded, apart from your name."))
            return redirect("learning_plan:plan")
    context = {
        "survey": survey,
        "questions": survey.questions.prefetch_related("options"),
        "scale": range(1, 6),
        "error": error,
    }
    return render(request, "societies/survey_answer.html", context, status=status)


@login_required
def survey_results(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    try:
        survey = selectors.results_survey(pk=pk, user=user)
    except PortalError as exc:
        raise Http404 from exc
    context = {
        "survey": survey,
        "groups": results.survey_results(survey),
        "min_group": surveys.MIN_GROUP,
        "manages": services.is_society_staff(society=survey.society, user=user),
    }
    return render(request, "societies/survey_results.html", context)


@login_required
def survey_results_csv(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        survey = selectors.results_survey(pk=pk, user=signed_in_user(request))
    except PortalError as exc:
        raise Http404 from exc
    response = HttpResponse(results.results_csv(survey), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-results.csv"'
    return response
