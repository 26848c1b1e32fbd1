"""Forms of the learning plan's pages."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Specialty

from .models import CycleRule, PortfolioScan, ProgrammeEntry


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
