"""The needs survey template: a draft with the common items (topics wanted, preferred formats, barriers, time and
money spent on learning) that a society's staff start from and then edit as they please."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from accounts.audit import audit_log
from accounts.models import Organization, Specialty, User

from .models import Question, Survey
from .services import require_society_staff
from .surveys import question_add, survey_create

# The template's items, in English (the source language) and translated into the language of whoever starts
# from it: the staff edit them as they please afterwards.
TEMPLATE_TITLE = gettext_noop("The learning needs of specialists")
TEMPLATE_INTRO = gettext_noop(
    "The society asks what you want to learn and how, to plan its activities. The answers are anonymous."
)
TEMPLATE_QUESTIONS: list[tuple[str, str, bool, list[str]]] = [
    (
        Question.Kind.MULTIPLE,
        gettext_noop("Which topics do you want to learn about in the coming year?"),
        True,
        [
            gettext_noop("Diagnosis"),
            gettext_noop("Pharmacotherapy"),
            gettext_noop("Psychotherapy and rehabilitation"),
            gettext_noop("Clinical guidelines and standards"),
            gettext_noop("Law and medical records"),
        ],
    ),
    (
        Question.Kind.MULTIPLE,
        gettext_noop("Which formats do you prefer?"),
        True,
        [
            gettext_noop("In-person conferences"),
            gettext_noop("Webinars"),
            gettext_noop("Online modules"),
            gettext_noop("Clinical case discussions"),
            gettext_noop("Internships at a clinic"),
        ],
    ),
    (
        Question.Kind.MULTIPLE,
        gettext_noop("What keeps you from learning?"),
        False,
        [
            gettext_noop("No time"),
            gettext_noop("Cost"),
            gettext_noop("Travel"),
            gettext_noop("Few activities in my specialty"),
            gettext_noop("The employer does not release me"),
        ],
    ),
    (
        Question.Kind.SINGLE,
        gettext_noop("How many hours a month do you spend on learning?"),
        True,
        [
            gettext_noop("Less than 2"),
            gettext_noop("2 to 5"),
            gettext_noop("6 to 10"),
            gettext_noop("More than 10"),
        ],
    ),
    (
        Question.Kind.SINGLE,
        gettext_noop("How much do you spend on learning a year, in roubles?"),
        False,
        [
            gettext_noop("Nothing"),
            gettext_noop("Up to 10,000"),
            gettext_noop("10,000 to 50,000"),
            gettext_noop("More than 50,000"),
        ],
    ),
    (
        Question.Kind.SCALE,
        gettext_noop("How well do the activities on offer meet your needs? (1 — not at all, 5 — fully)"),
        False,
        [],
    ),
    (
        Question.Kind.CASE,
        gettext_noop("Describe a difficult case from your practice you would like discussed."),
        False,
        [],
    ),
    (Question.Kind.TEXT, gettext_noop("What else would you like the society to offer?"), False, []),
]


@transaction.atomic
def survey_from_template(
    *, society: Organization, actor: User, specialties: Iterable[Specialty] | None = None, days: int = 30
) -> Survey:
    """A draft with the common items (topics wanted, preferred formats, barriers, time and money spent on
    learning), for the society's specialties (all unless given), open from today for `days` days (the staff may
    move the dates while it is a draft)."""
    require_society_staff(society=society, user=actor)
    chosen = list(specialties) if specialties is not None else list(society.specialties.order_by("code"))
    start = timezone.localdate()
    with override(actor.language or settings.LANGUAGE_CODE):
        survey = survey_create(
            society=society,
            actor=actor,
            title=_(TEMPLATE_TITLE),
            intro=_(TEMPLATE_INTRO),
            specialties=chosen,
            opens_on=start,
            closes_on=start + timedelta(days=days),
        )
        for kind, text, required, options in TEMPLATE_QUESTIONS:
            question_add(
                survey=survey, actor=actor, kind=kind, text=_(text), required=required, options=[_(o) for o in options]
            )
    audit_log(actor=actor, action="survey.from_template", obj=survey)
    return survey
