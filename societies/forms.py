from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from review.forms import SpecialtiesField

from .models import Announcement, Option, Question, Survey

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AnnouncementForm(forms.Form):
    """What society staff write. The service checks it all again (lengths, NUL, the society's specialties): the
    form offers only the society's specialties and says what is wrong field by field."""

    title = forms.CharField(label=_("Title"), max_length=Announcement.TITLE_MAX)
    body = forms.CharField(
        label=_("Text"),
        max_length=Announcement.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=Announcement._meta.get_field("body").help_text,
    )
    specialties = SpecialtiesField()
    published_at = forms.DateTimeField(
        label=_("Publication time"),
        required=False,
        widget=DATETIME_INPUT,
        help_text=_("Empty: now. A later time schedules the announcement until then (your time zone)."),
    )
    pinned = forms.BooleanField(
        label=_("Pin it above the others"), required=False, help_text=_("Pinned announcements are shown first.")
    )

    # The refusals of the service, by the field they concern.
    FIELDS_OF_CODES = {
        "title_required": "title",
        "title_too_long": "title",
        "body_required": "body",
        "body_too_long": "body",
        "specialties_required": "specialties",
        "specialty_not_in_society": "specialties",
        "published_at_out_of_range": "published_at",
    }

    def __init__(self, *args: Any, society: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["specialties"]
        assert isinstance(field, SpecialtiesField)  # noqa: S101 - declared just above
        field.queryset = society.specialties.order_by("code")

    @classmethod
    def initial_of(cls, announcement: Announcement) -> dict[str, Any]:
        return {
            "title": announcement.title,
            "body": announcement.body,
            "specialties": list(announcement.specialties.all()),
            "published_at": announcement.published_at,
            "pinned": announcement.pinned,
        }


class DigestForm(forms.Form):
    subscribed = forms.BooleanField(
        label=_("Send me a weekly e-mail with the announcements of my specialties"), required=False
    )


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SurveyForm(forms.Form):
    """A survey's details. The service checks them again (lengths, NUL, the society's specialties, dates)."""

    title = forms.CharField(label=_("Title"), max_length=Survey.TITLE_MAX)
    intro = forms.CharField(
        label=_("Introduction"), max_length=Survey.INTRO_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    specialties = SpecialtiesField()
    opens_on = forms.DateField(label=_("Opens on"), widget=DATE_INPUT)
    closes_on = forms.DateField(label=_("Closes on"), widget=DATE_INPUT)

    FIELDS_OF_CODES = {
        "text_required": "title",
        "text_too_long": None,
        "specialties_required": "specialties",
        "specialty_not_in_society": "specialties",
        "survey_dates_invalid": "closes_on",
    }

    def __init__(self, *args: Any, society: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["specialties"]
        assert isinstance(field, SpecialtiesField)  # noqa: S101 - declared just above
        field.queryset = society.specialties.order_by("code")

    @classmethod
    def initial_of(cls, survey: Survey) -> dict[str, Any]:
        return {
            "title": survey.title,
            "intro": survey.intro,
            "specialties": list(survey.specialties.all()),
            "opens_on": survey.opens_on,
            "closes_on": survey.closes_on,
        }


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Question.Kind.choices)
    text = forms.CharField(label=_("Question"), max_length=Question.TEXT_MAX)
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        max_length=Option.TEXT_MAX * 25,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For a choice: one option a line."),
    )

    FIELDS_OF_CODES = {
        "text_required": "text",
        "options_required": "options",
        "options_too_many": "options",
        "question_kind_invalid": "kind",
    }

    def option_lines(self) -> list[str]:
        return [line for line in self.cleaned_data.get("options", "").splitlines() if line.strip()]

    @classmethod
    def initial_of(cls, question: Question) -> dict[str, Any]:
        return {
            "kind": question.kind,
            "text": question.text,
            "required": question.required,
            "options": "\n".join(option.text for option in question.options.all()),
        }
