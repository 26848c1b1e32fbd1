"""Forms of the doctor's status pages: applying in one specialty, and the holder's consent to be named."""

from django import forms
from django.utils.translation import gettext_lazy as _

SPECIALTY_CODE_MAX = 16


class ApplyForm(forms.Form):
    """One specialty's «Подать заявление»: the specialty comes as its code, as the API takes it."""

    specialty = forms.CharField(max_length=SPECIALTY_CODE_MAX, widget=forms.HiddenInput)
    public_consent = forms.BooleanField(
        label=_("I agree to my full name being shown in the public register"),
        required=False,
        help_text=_("Only if the status is awarded; you can change this later."),
    )


class ConsentForm(forms.Form):
    """The holder shows or hides their name in the public register; the button sends the wanted state."""

    public = forms.TypedChoiceField(
        choices=[("1", _("Shown")), ("0", _("Hidden"))],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
