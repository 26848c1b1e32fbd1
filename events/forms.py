from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import TIMEZONE_CHOICES
from nmo_portal.calendar import make_local, zone
from review.forms import CatalogFilterForm, SpecialtiesField

from .models import Event

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time as the clock at the event shows it.

    Django reads a typed time in the viewer's zone; here it stays naive until the form knows the zone chosen
    beside it (EventForm.clean). A stored moment is shown in `zone`, the event's zone, so editing an event
    shows the times that were typed whatever the zone of the person editing.
    """

    zone: str | None = None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(zone(self.zone)).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value
        try:
            result = parse_datetime(str(value).strip())
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if result is not None:
            return result
        for layout in self.input_formats:
            try:
                return self.strptime(str(value).strip(), layout)
            except (TypeError, ValueError):
                continue
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class EventForm(forms.ModelForm[Event]):
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIMEZONE_CHOICES,
        required=False,  # left out, the event keeps its zone (the register's for a new one)
        help_text=_(
            "The times below are in this zone: the venue's zone for an in-person event, Europe/Moscow for an "
            "online one. The event's calendar days are its days in this zone."
        ),
    )
    starts_at = WallClockDateTimeField(label=_("starts"), widget=DATETIME_INPUT)
    ends_at = WallClockDateTimeField(label=_("ends"), widget=DATETIME_INPUT)
    specialties = SpecialtiesField()

    class Meta:
        model = Event
        fields = [
            "title",
            "programme",
            "format",
            "venue",
            "link",
            "timezone",
            "starts_at",
            "ends_at",
            "specialties",
            "hours",
            "credits_requested",
        ]
        widgets = {
            "programme": forms.Textarea(attrs={"rows": 8}),
            "format": forms.RadioSelect,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = Event.Format.choices  # type: ignore[attr-defined]  # no empty radio
        self.fields["credits_requested"].help_text = _(
            "At most the academic hours, and at most %(per_day)d per calendar day of the event."
        ) % {"per_day": settings.MAX_CREDITS_PER_EVENT_DAY}
        lead = settings.EVENT_SUBMISSION_LEAD_DAYS
        self.fields["starts_at"].help_text = ngettext(
            "Submit the event for review at least %(days)d day before it starts.",
            "Submit the event for review at least %(days)d days before it starts.",
            lead,
        ) % {"days": lead}
        for name in ("starts_at", "ends_at"):
            field = self.fields[name]
            assert isinstance(field, WallClockDateTimeField)  # noqa: S101 - declared above
            field.zone = self.instance.timezone

    def clean_timezone(self) -> str:
        return str(self.cleaned_data.get("timezone") or self.instance.timezone)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # An unknown zone is already an error of its own field; the times are still read in a real zone.
        in_zone = cleaned.get("timezone") or self.instance.timezone
        for name in ("starts_at", "ends_at"):
            if isinstance(cleaned.get(name), datetime):
                cleaned[name] = make_local(cleaned[name], in_zone)
        return cleaned


class EventFilterForm(CatalogFilterForm):
    format = forms.ChoiceField(
        label=_("Format"), choices=[("", _("Any format")), *Event.Format.choices], required=False
    )
