from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from nmo_portal.calendar import today

from .models import TIMEZONE_CHOICES, Membership, Organization, OrganizationApiKey, Specialty, User, WorkRecord
from .selectors import active_specialties
from .signin import SigninRefused, signin_authenticate
from .snils import normalize_snils, validate_snils
from .work import REGIONS


class SignupForm(forms.Form):
    """Extra fields on allauth's sign-up page: the name we print on certificates and reports."""

    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)

    def signup(self, request: HttpRequest, user: User) -> None:
        user.last_name = self.cleaned_data["last_name"].strip()
        user.first_name = self.cleaned_data["first_name"].strip()
        user.middle_name = self.cleaned_data["middle_name"].strip()
        user.language = (getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE)[:2]
        user.save()


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in, under the same limits as the site's (accounts.signin). Django's AuthenticationForm
    has no limit of its own; the `user_login_failed` signal can count failures but cannot refuse one."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = signin_authenticate(
                    request=self.request,
                    login=username,
                    authenticate=lambda: authenticate(self.request, username=username, password=password),
                )
            except SigninRefused as exc:
                raise forms.ValidationError(str(exc.message), code=exc.code) from exc
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class DoctorProfileForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    snils = forms.CharField(
        label=_("СНИЛС"),
        max_length=20,
        required=False,
        help_text=_("11 digits; spaces and dashes are fine, e.g. 112-233-445 95. Needed to activate codes."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    specialties = forms.ModelMultipleChoiceField(
        label=_("Specialties"),
        queryset=active_specialties(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language of e-mails and pages"), choices=settings.LANGUAGES)
    timezone_name = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONE_CHOICES)
    accreditation_reminders = forms.BooleanField(
        label=_("Send me e-mail reminders about accreditation"),
        required=False,
        help_text=_("When the filing window opens, when 90 days are left, and when hours are short as time runs out."),
    )

    def clean_snils(self) -> str:
        value = normalize_snils(self.cleaned_data["snils"])
        if value:
            validate_snils(value)
        return value


class OrganizationForm(forms.ModelForm[Organization]):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = ["name", "short_name", "kind", "inn", "email", "website", "address"]
        help_texts = {"inn": _("10 digits for an organization, 12 for an individual entrepreneur.")}

    def clean_inn(self) -> str:
        inn: str = self.cleaned_data["inn"].strip()
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise forms.ValidationError(_("An ИНН has 10 or 12 digits."))
        return inn


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "off"


class ApiKeyForm(forms.ModelForm[OrganizationApiKey]):
    class Meta:
        model = OrganizationApiKey
        fields = ["name"]
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "off"})}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WorkRecordForm(forms.ModelForm[WorkRecord]):
    """A period of the work history. The service checks it again (the admin and the API reach it too)."""

    class Meta:
        model = WorkRecord
        fields = ["employer", "employer_inn", "region", "unit", "position", "specialty", "started_on", "ended_on"]
        widgets = {
            "employer_inn": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "started_on": _date_input(),
            "ended_on": _date_input(),
        }
        help_texts = {"employer_inn": _("10 digits for an organization, 12 for an individual entrepreneur.")}
        labels = {"started_on": _("Worked from"), "ended_on": _("Worked until")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Subjects of the federation by name, as people look for them; the stored value is the code.
        self.fields["region"].choices = [("", "—"), *sorted(REGIONS, key=lambda region: region[1])]  # type: ignore[attr-defined]
        specialty = self.fields["specialty"]
        # Active specialties, and a record's own even if the portal has retired it since.
        specialty.queryset = Specialty.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=self.instance.specialty_id)
        ).order_by("code")
        specialty.label_from_instance = lambda item: f"{item.code} {item.display_name}"  # type: ignore[attr-defined]
        last_day = today().isoformat()
        for name in ("started_on", "ended_on"):
            self.fields[name].widget.attrs["max"] = last_day
