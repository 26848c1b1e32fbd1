"""The commission's forms: a stage's date and place, its result, the decision. They read what was typed; the
services (statuses.services) hold the rules and check everything again."""

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nmo_portal.calendar import register_zone, within_register_years

from .models import ProgrammeStage, StageResult
from .services import PLACE_MAX, TEXT_MAX


class RegisterDateTimeField(forms.DateTimeField):
    """A date and time on the register's clock (Europe/Moscow), whatever the zone of the member typing it: the
    stages are held in Moscow, and the applicant reads the same hour."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value, register_zone()).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(register_zone()):
            moment = super().to_python(value)
        if moment is not None and not within_register_years(moment.date()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return moment


class StageScheduleForm(forms.Form):
    scheduled_at = RegisterDateTimeField(label=_("Date and time"), help_text=_("Moscow time (Europe/Moscow)."))
    place = forms.CharField(label=_("Place"), max_length=PLACE_MAX)

    FIELDS_OF_CODES = {"text_required": "place", "text_too_long": "place", "text_invalid": "place"}

    def __init__(self, *args: Any, stage: ProgrammeStage, result: StageResult | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"schedule-{stage.pk}")
        if result is not None and result.scheduled_at is not None:
            kwargs.setdefault("initial", {"scheduled_at": result.scheduled_at, "place": result.place})
        super().__init__(*args, **kwargs)


class StageResultForm(forms.Form):
    """A scored stage takes its score in per cent (the service parses it, «79,5» as well as «79.5»); another
    stage takes passed or not."""

    PASSED_CHOICES = [("yes", _("Passed")), ("no", _("Not passed"))]

    score = forms.CharField(label=_("Score, %"), max_length=10)
    passed = forms.ChoiceField(label=_("Result"), choices=PASSED_CHOICES, widget=forms.RadioSelect)
    held_on = forms.DateField(label=_("Held on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    FIELDS_OF_CODES = {
        "score_invalid": "score",
        "passed_required": "passed",
        "held_on_invalid": "held_on",
        "text_too_long": "comment",
        "text_invalid": "comment",
    }

    def __init__(self, *args: Any, stage: ProgrammeStage, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"result-{stage.pk}")
        super().__init__(*args, **kwargs)
        self.stage = stage
        if stage.is_scored:
            del self.fields["passed"]
            self.fields["score"].help_text = _("The stage passes at %(mark)s%% or above.") % {
                "mark": _mark(stage),
            }
        else:
            del self.fields["score"]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        found: dict[str, Any] = {"held_on": data["held_on"], "comment": data["comment"]}
        if self.stage.is_scored:
            found["score"] = data["score"]
        else:
            found["passed"] = data["passed"] == "yes"
        return found


def _mark(stage: ProgrammeStage) -> str:
    """80.00 reads 80; 72.50 reads 72.5."""
    mark = stage.pass_mark
    if mark is None:
        return ""
    return f"{mark.normalize():f}"


class DecisionForm(forms.Form):
    DECISION_CHOICES = [("award", _("Award the status")), ("refuse", _("Refuse the status"))]

    decision = forms.ChoiceField(label=_("Decision"), choices=DECISION_CHOICES, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a refusal: the applicant reads it."),
    )

    FIELDS_OF_CODES = {"text_required": "comment", "text_too_long": "comment", "text_invalid": "comment"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decision")
        super().__init__(*args, **kwargs)
