"""Needs surveys: the builder of society staff, doctors' answers and invitations (the template that staff start
from is in societies.survey_template; who sees which survey and its results, in societies.selectors; the results
themselves, in societies.survey_results).

Who builds: the staff of the survey's society and portal administrators (societies.services.require_society_staff);
to anyone else a survey is not there (404). A survey is edited only while a draft; opened, doctors of its
specialties are invited by e-mail (tasks: `send_survey_invitations`) and answer between its two dates.

One response per doctor: a SurveyParticipation row, unique per doctor and survey in the database, is written in
the transaction that writes the answers; a second response, also at the same instant, is refused with
`survey_already_answered` (409) and writes nothing. The answers (AnswerSet, Answer) carry a random key, the survey
and the specialty they count in, and nothing of the person or the time; they are read in the order of their
random keys or of their text, never in the order they were written.

Results are shown for groups (the whole survey, each specialty) of at least MIN_GROUP responses, to the society's
staff, and once published to providers of the survey's specialties (members of verified organizations with
submitted or approved activities in one of them: selectors.can_read_results); to anyone else the results are not
there (404).
"""

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.audit import audit_log
from accounts.models import Organization, Specialty, User
from nmo_portal.calendar import within_register_years
from nmo_portal.errors import NotFound, PortalError
from nmo_portal.mail import templated_message

from .models import (
    SCALE_MAX,
    SCALE_MIN,
    Answer,
    AnswerSet,
    Option,
    Question,
    Survey,
    SurveyInvitation,
    SurveyParticipation,
)
from .services import _society_specialties, require_society_staff

logger = logging.getLogger(__name__)

MIN_GROUP = 5
MAX_QUESTIONS = 50
MAX_OPTIONS = 20
# The activities that make an organization a provider of a specialty, for the published results.
INVITATION_TEMPLATE = "societies/email/survey_invitation"


# --- the builder -------------------------------------------------------------------------------------------------


def _invalid(message: str, code: str = "survey_invalid") -> PortalError:
    return PortalError(message, code=code)


def _clean_text(value: str, *, limit: int, required: bool, what: str) -> str:
    value = value.strip()
    if "\x00" in value:
        raise PortalError(_("The text holds a character that cannot be saved."), code="null_characters_not_allowed")
    if required and not value:
        raise _invalid(_("Fill in the %(what)s.") % {"what": what}, code="text_required")
    if len(value) > limit:
        raise _invalid(
            ngettext(
                "The %(what)s is longer than %(max)d character.",
                "The %(what)s is longer than %(max)d characters.",
                limit,
            )
            % {"what": what, "max": limit},
            code="text_too_long",
        )
    return value


def _dates(opens_on: date, closes_on: date) -> None:
    if not (within_register_years(opens_on) and within_register_years(closes_on)):
        raise _invalid(_("Choose dates between 2000 and 2099."), code="survey_dates_invalid")
    if closes_on < opens_on:
        raise _invalid(_("The survey cannot close before it opens."), code="survey_dates_invalid")


def _require_draft(survey: Survey) -> None:
    if not survey.is_draft:
        raise PortalError(_("The survey is open: it can no longer be changed."), code="survey_not_draft", status=409)


def _locked(survey: Survey, actor: User) -> Survey:
    survey = Survey.objects.select_for_update().select_related("society").get(pk=survey.pk)
    require_society_staff(society=survey.society, user=actor)
    return survey


@transaction.atomic
def survey_create(
    *,
    society: Organization,
    actor: User,
    title: str,
    intro: str = "",
    specialties: Iterable[Specialty],
    opens_on: date,
    closes_on: date,
) -> Survey:
    """A draft survey of `society` for some of its specialties."""
    require_society_staff(society=society, user=actor)
    title = _clean_text(title, limit=Survey.TITLE_MAX, required=True, what=_("title"))
    intro = _clean_text(intro, limit=Survey.INTRO_MAX, required=False, what=_("introduction"))
    chosen = _society_specialties(society=society, specialties=specialties)
    _dates(opens_on, closes_on)
    survey = Survey.objects.create(
        society=society, title=title, intro=intro, opens_on=opens_on, closes_on=closes_on, created_by=actor
    )
    survey.specialties.set(chosen)
    audit_log(actor=actor, action="survey.create", obj=survey, specialties=sorted(s.code for s in chosen))
    return survey


@transaction.atomic
def survey_edit(
    *,
    survey: Survey,
    actor: User,
    title: str,
    intro: str,
    specialties: Iterable[Specialty],
    opens_on: date,
    closes_on: date,
) -> Survey:
    survey = _locked(survey, actor)
    _require_draft(survey)
    survey.title = _clean_text(title, limit=Survey.TITLE_MAX, required=True, what=_("title"))
    survey.intro = _clean_text(intro, limit=Survey.INTRO_MAX, required=False, what=_("introduction"))
    chosen = _society_specialties(society=survey.society, specialties=specialties)
    _dates(opens_on, closes_on)
    survey.opens_on, survey.closes_on = opens_on, closes_on
    survey.save()
    survey.specialties.set(chosen)
    audit_log(actor=actor, action="survey.edit", obj=survey, specialties=sorted(s.code for s in chosen))
    return survey


def _clean_options(kind: str, options: Iterable[str]) -> list[str]:
    if kind not in Question.CHOICE_KINDS:
        return []
    cleaned = [
        _clean_text(text, limit=Option.TEXT_MAX, required=False, what=_("option")) for text in list(options)[:1000]
    ]
    cleaned = [text for text in dict.fromkeys(cleaned) if text]
    if len(cleaned) < 2:
        raise _invalid(_("A choice needs at least two options."), code="options_required")
    if len(cleaned) > MAX_OPTIONS:
        raise _invalid(_("A question has at most %(max)d options.") % {"max": MAX_OPTIONS}, code="options_too_many")
    return cleaned


@transaction.atomic
def question_add(
    *, survey: Survey, actor: User, kind: str, text: str, required: bool = False, options: Iterable[str] = ()
) -> Question:
    survey = _locked(survey, actor)
    _require_draft(survey)
    if kind not in Question.Kind.values:
        raise _invalid(_("Choose the kind of question."), code="question_kind_invalid")
    text = _clean_text(text, limit=Question.TEXT_MAX, required=True, what=_("question"))
    chosen = _clean_options(kind, options)
    count = survey.questions.count()
    if count >= MAX_QUESTIONS:
        raise _invalid(_("A survey has at most %(max)d questions.") % {"max": MAX_QUESTIONS}, "questions_too_many")
    question = Question.objects.create(survey=survey, order=count + 1, kind=kind, text=text, required=required)
    Option.objects.bulk_create(Option(question=question, order=n, text=t) for n, t in enumerate(chosen, start=1))
    audit_log(actor=actor, action="survey.question_add", obj=survey, question=question.pk, kind=kind)
    return question


@transaction.atomic
def question_edit(
    *, question: Question, actor: User, text: str, required: bool, options: Iterable[str] = ()
) -> Question:
    """Change a question's text, whether it is required, and its options (given anew, in order)."""
    survey = _locked(question.survey, actor)
    _require_draft(survey)
    question = Question.objects.get(pk=question.pk, survey=survey)
    question.text = _clean_text(text, limit=Question.TEXT_MAX, required=True, what=_("question"))
    question.required = required
    chosen = _clean_options(question.kind, options)
    question.save()
    question.options.all().delete()
    Option.objects.bulk_create(Option(question=question, order=n, text=t) for n, t in enumerate(chosen, start=1))
    audit_log(actor=actor, action="survey.question_edit", obj=survey, question=question.pk)
    return question


@transaction.atomic
def question_remove(*, question: Question, actor: User) -> None:
    survey = _locked(question.survey, actor)
    _require_draft(survey)
    pk = question.pk
    Question.objects.filter(pk=pk, survey=survey).delete()
    audit_log(actor=actor, action="survey.question_remove", obj=survey, question=pk)


@transaction.atomic
def survey_open(*, survey: Survey, actor: User) -> Survey:
    """Open a draft that has questions: from its first day the doctors of its specialties answer it; they are
    invited by e-mail once it commits."""
    survey = _locked(survey, actor)
    _require_draft(survey)
    if not survey.questions.exists():
        raise _invalid(_("Add at least one question before opening the survey."), code="questions_required")
    if survey.closes_on < timezone.localdate():
        raise _invalid(_("The survey's last day has passed: change its dates."), code="survey_dates_invalid")
    survey.status = Survey.Status.OPEN
    survey.save(update_fields=["status"])
    audit_log(actor=actor, action="survey.open", obj=survey)
    transaction.on_commit(lambda: send_survey_invitations.delay(survey.pk))
    return survey


@transaction.atomic
def survey_close(*, survey: Survey, actor: User) -> Survey:
    survey = _locked(survey, actor)
    if survey.status != Survey.Status.OPEN:
        raise PortalError(_("Only an open survey can be closed."), code="survey_not_open", status=409)
    survey.status = Survey.Status.CLOSED
    survey.save(update_fields=["status"])
    audit_log(actor=actor, action="survey.close", obj=survey)
    return survey


@transaction.atomic
def survey_publish_results(*, survey: Survey, actor: User) -> Survey:
    """Show the results to the providers of the survey's specialties too."""
    survey = _locked(survey, actor)
    if survey.is_draft:
        raise PortalError(_("A draft has no results to publish."), code="survey_not_open", status=409)
    if survey.results_published_at is None:
        survey.results_published_at = timezone.now()
        survey.save(update_fields=["results_published_at"])
        audit_log(actor=actor, action="survey.publish_results", obj=survey)
    return survey


# --- answering ---------------------------------------------------------------------------------------------------


def _doctor_specialty_ids(doctor: User) -> set[int]:
    return set(Specialty.objects.filter(doctors__user_id=doctor.pk).values_list("pk", flat=True))


def _not_for_you() -> PortalError:
    return PortalError(_("The survey is for doctors of other specialties."), code="survey_not_for_you", status=403)


def _answer_invalid(message: str) -> PortalError:
    return PortalError(message, code="survey_answer_invalid", status=400)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _answers_of(survey: Survey, answers: Any) -> list[tuple[Question, Option | None, int | None, str]]:
    """The answer rows `answers` ([{"question": id, "value": …}]) make, each checked against its question; a
    required question left unanswered, an option of another question, a scale outside 1–5, a text too long or
    holding NUL is refused."""
    questions = {q.pk: q for q in survey.questions.prefetch_related("options")}
    if not isinstance(answers, list) or len(answers) > len(questions):
        raise _answer_invalid(_("The answers are not a list of one answer per question."))
    rows: list[tuple[Question, Option | None, int | None, str]] = []
    answered: set[int] = set()
    for item in answers:
        if not isinstance(item, dict) or not _is_int(item.get("question")) or item["question"] not in questions:
            raise _answer_invalid(_("An answer names no question of this survey."))
        question = questions[item["question"]]
        if question.pk in answered:
            raise _answer_invalid(_("A question is answered twice."))
        value = item.get("value")
        options = {o.pk: o for o in question.options.all()}
        made: list[tuple[Question, Option | None, int | None, str]] = []
        if value is None or value == "" or value == []:
            pass
        elif question.kind == Question.Kind.SINGLE:
            if not _is_int(value) or value not in options:
                raise _answer_invalid(_("Choose one of the question's options: %(q)s") % {"q": question.text})
            made = [(question, options[value], None, "")]
        elif question.kind == Question.Kind.MULTIPLE:
            if not isinstance(value, list) or len(value) > len(options):
                raise _answer_invalid(_("Choose among the question's options: %(q)s") % {"q": question.text})
            if not all(_is_int(v) and v in options for v in value) or len(set(value)) != len(value):
                raise _answer_invalid(_("Choose among the question's options: %(q)s") % {"q": question.text})
            made = [(question, options[v], None, "") for v in value]
        elif question.kind == Question.Kind.SCALE:
            if not _is_int(value) or not SCALE_MIN <= value <= SCALE_MAX:
                raise _answer_invalid(
                    _("Answer with a number from %(min)d to %(max)d: %(q)s")
                    % {"min": SCALE_MIN, "max": SCALE_MAX, "q": question.text}
                )
            made = [(question, None, value, "")]
        else:
            if not isinstance(value, str) or "\x00" in value:
                raise _answer_invalid(_("The answer holds a character that cannot be saved."))
            if len(value) > Answer.TEXT_MAX:
                raise _answer_invalid(
                    ngettext(
                        "An answer is longer than %(max)d character.",
                        "An answer is longer than %(max)d characters.",
                        Answer.TEXT_MAX,
                    )
                    % {"max": Answer.TEXT_MAX}
                )
            if value.strip():
                made = [(question, None, None, value.strip())]
        if made:
            answered.add(question.pk)
            rows.extend(made)
    missing = [q for q in questions.values() if q.required and q.pk not in answered]
    if missing:
        raise _answer_invalid(_("Answer the required question: %(q)s") % {"q": missing[0].text})
    return rows


def require_answerable(*, survey: Survey, doctor: User, day: date | None = None) -> int:
    """The specialty (its id) the doctor's answer counts in; refused when the survey is not open today, or is not
    for any of the doctor's specialties."""
    if survey.state_on(day or timezone.localdate()) != "open":
        raise PortalError(_("The survey is not open."), code="survey_closed", status=400)
    theirs = _doctor_specialty_ids(doctor)
    ordered = survey.specialties.order_by("code").values_list("pk", flat=True)
    mine = [pk for pk in ordered if pk in theirs]
    if not mine:
        raise _not_for_you()
    return mine[0]


def survey_answer(*, survey: Survey, doctor: User, answers: Any) -> None:
    """Record one doctor's response: who answered and what, in one transaction; a second response is refused
    with `survey_already_answered` (409), also when both come at the same instant (the database's unique
    constraint decides)."""
    survey = Survey.objects.get(pk=survey.pk)  # its state as it is now, not as the caller last read it
    if survey.is_draft:
        raise NotFound(_("No such survey."))
    specialty_id = require_answerable(survey=survey, doctor=doctor)
    already = PortalError(_("You have already answered this survey."), code="survey_already_answered", status=409)
    if SurveyParticipation.objects.filter(survey=survey, doctor=doctor).exists():
        raise already
    rows = _answers_of(survey, answers)
    try:
        with transaction.atomic():
            SurveyParticipation.objects.create(survey=survey, doctor=doctor)
            answer_set = AnswerSet.objects.create(survey=survey, specialty_id=specialty_id)
            Answer.objects.bulk_create(
                Answer(answer_set=answer_set, survey=survey, question=q, option=o, number=n, text=t)
                for q, o, n, t in rows
            )
    except IntegrityError:
        raise already from None
    # the audit row names the survey, not the answers
    audit_log(actor=doctor, action="survey.answer", obj=survey)


# --- invitations ---------------------------------------------------------------------------------------------------


def survey_url(survey: Survey) -> str:
    return f"{settings.SITE_URL}{reverse('societies:survey_answer', args=[survey.pk])}"


def invitees(survey: Survey) -> QuerySet[User]:
    """Active doctors with an address, of the survey's specialties, not invited yet and not having answered."""
    return (
        User.objects.filter(is_active=True, doctor_profile__specialties__in=survey.specialties.values("pk"))
        .exclude(email="")
        .exclude(Exists(SurveyInvitation.objects.filter(survey=survey, doctor=OuterRef("pk"))))
        .exclude(Exists(SurveyParticipation.objects.filter(survey=survey, doctor=OuterRef("pk"))))
        .distinct()
        .order_by("pk")
    )


def invitation_send(*, survey: Survey, doctor: User) -> bool:
    """E-mail one doctor the invitation unless it was sent: its row first, the mail only when this call inserted
    it, both in one transaction (a failed send leaves no row, so a later run tries again)."""
    with timezone.override(doctor.timezone):
        message = templated_message(
            to=[doctor.email],
            template=INVITATION_TEMPLATE,
            context={"doctor": doctor, "survey": survey, "url": survey_url(survey)},
            language=doctor.language,
        )
    with transaction.atomic():
        _row, created = SurveyInvitation.objects.get_or_create(survey=survey, doctor=doctor)
        if not created:
            return False
        message.send()
    return True


def invitations_send(survey_id: int) -> int:
    survey = Survey.objects.select_related("society").filter(pk=survey_id, status=Survey.Status.OPEN).first()
    if survey is None or survey.state == "closed":
        return 0
    sent = 0
    for doctor in invitees(survey).iterator(chunk_size=500):
        try:
            sent += invitation_send(survey=survey, doctor=doctor)
        except Exception:
            logger.exception("Could not send the invitation to survey %s to doctor %s", survey.pk, doctor.pk)
    return sent


@shared_task
def send_survey_invitations(survey_id: int) -> int:
    """When a survey opens: invite the doctors of its specialties by e-mail, each once."""
    return invitations_send(survey_id)
