"""Forms of the codes' pages."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from nmo_portal.spreadsheets import TableFileForm

from .models import IcpCode


class ActivateForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the certificate (ИКП)"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXXXXXX",
            }
        ),
    )


class DisputeForm(forms.Form):
    code_text = forms.CharField(label=_("Code"), max_length=40)
    event_name = forms.CharField(label=_("Event name"), max_length=300)
    event_date = forms.DateField(label=_("Event date"), widget=forms.DateInput(attrs={"type": "date"}))
    event_place = forms.CharField(label=_("Place"), max_length=300)
    message = forms.CharField(
        label=_("Anything support should know"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    failure = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def __init__(self, *args: Any, event_known: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if event_known:  # `services.dispute_open` takes them from the code
            for name in ("event_name", "event_date", "event_place"):
                del self.fields[name]


class IssueBlankForm(forms.Form):
    count = forms.IntegerField(label=_("Number of blank codes"), min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["count"].max_value = settings.ICP_MAX_CODES_PER_ISSUE  # type: ignore[attr-defined]
        self.fields["count"].widget.attrs["max"] = settings.ICP_MAX_CODES_PER_ISSUE


class AttendeeFileForm(TableFileForm):
    file = forms.FileField(
        label=_("Attendee list (CSV or XLSX)"),
        help_text=_("Columns: ФИО, e-mail, СНИЛС (optional). CSV as Excel saves it (;) or UTF-8 (,)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    issue_again = forms.BooleanField(
        label=_("Issue new codes also to attendees who already have a code of this event"),
        help_text=_(
            "Their earlier codes stay valid: a doctor is credited once per event whichever code they activate. "
            "Revoke a lost code in the list below."
        ),
        required=False,
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CodeFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *IcpCode.Status.choices], required=False)
    q = forms.CharField(label=_("Code, name or e-mail"), required=False, max_length=100)


class ResolveDisputeForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("Answer"),
        choices=[("1", _("The claim is right")), ("0", _("The claim is not confirmed"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(label=_("Answer to the doctor"), widget=forms.Textarea(attrs={"rows": 3}))
