"""Forms of the learning plan's pages."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Specialty

from .models import AccreditationDocument, CycleRule, Portfolio, PortfolioScan, ProgrammeEntry, ReportSection


class CycleForm(forms.Form):
    specialty = forms.ModelChoiceField(label=_("Specialty"), queryset=Specialty.objects.filter(is_active=True))
    starts_on = forms.DateField(label=_("Cycle starts"), widget=forms.DateInput(attrs={"type": "date"}))
    rule = forms.ModelChoiceField(label=_("Rule"), queryset=CycleRule.objects.all(), empty_label=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # no initial value: rules are ordered default first, so the default is preselected without a query
        self.fields["rule"].label_from_instance = lambda rule: rule.display_name  # type: ignore[attr-defined]
        self.fields["specialty"].label_from_instance = (  # type: ignore[attr-defined]
            lambda specialty: f"{specialty.code} {specialty.display_name}"
        )


class ProgrammeForm(forms.ModelForm[ProgrammeEntry]):
    class Meta:
        model = ProgrammeEntry
        fields = ["specialty", "name", "organization", "hours", "starts_on", "ends_on", "document_number"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class DocumentForm(forms.ModelForm[AccreditationDocument]):
    """The accreditation or certificate a cycle renews."""

    class Meta:
        model = AccreditationDocument
        fields = ["kind", "number", "issued_on"]
        widgets = {"issued_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"issued_on": _("It expires five years later; the filing window opens before that.")}


class ReportSectionForm(forms.Form):
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=ReportSection.MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AgreementForm(forms.Form):
    state = forms.ChoiceField(
        label=_("The employer's answer"),
        choices=[c for c in Portfolio.Agreement.choices if c[0] != Portfolio.Agreement.NOT_RECORDED],
        widget=forms.RadioSelect,
    )
    not_needed = forms.ChoiceField(
        label=_("Why no agreement is needed"),
        choices=[("", "—"), *Portfolio.NotNeeded.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason for the refusal"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


# Filing the accreditation portfolio and its outcome -------------------------------------------------------


def filing_auto_id(portfolio_pk: int) -> str:
    """The filing forms' element ids, unique per portfolio wherever its panel is shown."""
    return f"id_p{portfolio_pk}_%s"


class FilingForm(forms.Form):
    filed_on = forms.DateField(label=_("Filed on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class OutcomeForm(forms.Form):
    ACCREDITED = "accredited"
    REFUSED = "refused"

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(ACCREDITED, _("Accredited")), (REFUSED, _("Refused"))],
        widget=forms.RadioSelect,
    )
    outcome_on = forms.DateField(
        label=_("Date of the outcome"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    new_number = forms.CharField(
        label=_("Number of the new accreditation"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    new_issued_on = forms.DateField(
        label=_("Its date of issue"),
        required=False,
        help_text=_("The date of the outcome if left empty."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        help_text=_("Why the accreditation was refused, as the commission wrote."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# The portfolio's scans ---------------------------------------------------------------------------------------


class ScanForm(forms.Form):
    """What the doctor sends with a scan; the file itself is judged by `scans.scan_add`, not by its name."""

    kind = forms.ChoiceField(label=_("Document"), choices=PortfolioScan.Kind.choices)
    title = forms.CharField(
        label=_("Title"),
        max_length=PortfolioScan._meta.get_field("title").max_length,
        required=False,
        help_text=_("For example «Диплом о высшем образовании»; without one, the kind of document names it."),
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )
