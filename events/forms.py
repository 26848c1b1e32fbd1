from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from review.forms import CatalogFilterForm, SpecialtiesField

from .models import Event

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EventForm(forms.ModelForm[Event]):
    specialties = SpecialtiesField()

    class Meta:
        model = Event
        fields = [
            "title",
            "programme",
            "format",
            "venue",
            "link",
            "starts_at",
            "ends_at",
            "specialties",
            "hours",
            "credits_requested",
        ]
        widgets = {
            "programme": forms.Textarea(attrs={"rows": 8}),
            "starts_at": DATETIME_INPUT,
            "ends_at": DATETIME_INPUT,
            "format": forms.RadioSelect,
        }
        help_texts = {"starts_at": _("Moscow time unless your profile says otherwise.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = Event.Format.choices  # type: ignore[attr-defined]  # no empty radio
        self.fields["credits_requested"].help_text = _(
            "At most the academic hours, and at most %(per_day)d per calendar day of the event."
        ) % {"per_day": settings.MAX_CREDITS_PER_EVENT_DAY}


class EventFilterForm(CatalogFilterForm):
    format = forms.ChoiceField(
        label=_("Format"), choices=[("", _("Any format")), *Event.Format.choices], required=False
    )
