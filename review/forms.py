from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Specialty, User
from accounts.selectors import active_specialties
from nmo_portal.ids import MAX_ID

from . import selectors
from .services import Decision


class SpecialtiesField(forms.ModelMultipleChoiceField[Specialty]):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": _("Choose at least one specialty.")})
        super().__init__(queryset=active_specialties(), label=_("Specialties"), **kwargs)

    def label_from_instance(self, obj: Specialty) -> str:
        return f"{obj.code} {obj.display_name}"

    def clean(self, value: Any) -> Any:
        # A number past the ids' range names no specialty, and SQLite would refuse it inside the query.
        for item in value if isinstance(value, list | tuple) else ():
            if str(item).strip().lstrip("-").isdigit() and abs(int(item)) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": item}
                )
        return super().clean(value)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (Decision.APPROVE, _("Approve and grant credits")),
            (Decision.CHANGES, _("Ask the provider for changes")),
            (Decision.REJECT, _("Reject")),
        ],
    )
    # Checked by the service, and only for an approval: a rejection may leave any number here.
    credits = forms.IntegerField(label=_("Credits granted"), min_value=0, required=False)
    comment = forms.CharField(
        label=_("Comment for the provider"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Required when you reject or ask for changes."),
    )


class ProviderInput(forms.TextInput):
    """The provider filter's text box, with a `<datalist>` of suggestions that static/js/provider_suggestions.js
    fills from `catalog_providers` as the person types: the browser's own list, which a keyboard and a screen
    reader use like any input's suggestions. Without the script it is a plain text box; the page is not sent
    3,000 providers' names to build a list of them (152 KB of the 171 KB page at the bench's national scale)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        if widget_attrs.get("id"):
            widget_attrs["list"] = f"{widget_attrs['id']}_suggestions"
            widget_attrs["data-suggestions-url"] = reverse("review:catalog_providers")
        return context

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        if not (attrs or {}).get("id"):
            return html
        return format_html('{}<datalist id="{}_suggestions"></datalist>', html, attrs["id"])  # type: ignore[index]


class ProviderField(forms.CharField):
    """A provider by its name or a part of it (see `selectors.providers_named`), or by its id: the catalogue's
    filter used to be a list of the providers sending `?provider=<id>`, and links kept since still work. A number
    is an id; an id that is no verified provider is ignored, as the list ignored it. The box shows an id's provider
    by name, so that sending the form again keeps the same provider."""

    widget = ProviderInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=300, **kwargs)
        self.names: dict[str, str] = {}

    def clean(self, value: Any) -> list[int] | None:
        text: str = super().clean(value)
        if not text:
            return None
        if text.isascii() and text.isdigit():
            name = selectors.provider_name(int(text)) if int(text) <= MAX_ID else None
            if name is None:
                raise forms.ValidationError(_("There is no such provider."), code="invalid_choice")
            self.names[text] = name
            return [int(text)]
        return selectors.providers_named(text)

    def prepare_value(self, value: Any) -> Any:
        return self.names.get(str(value).strip(), value)


class CatalogFilterForm(forms.Form):
    """GET filters of the public catalogue; every field is optional and bad values are simply ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=active_specialties(),
        required=False,
        to_field_name="code",
        empty_label=_("All specialties"),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = ProviderField(
        label=_("Provider"),
        required=False,
        help_text=_("Its name or a part of it; suggestions appear as you type."),
        widget=ProviderInput(attrs={"placeholder": _("All providers")}),
    )

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()  # fills cleaned_data with the fields that are valid; the rest are left out
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class ExpertAppointForm(forms.Form):
    """A society's administrator names a person by e-mail and picks some of the society's specialties."""

    email = forms.EmailField(
        label=_("Expert's e-mail"),
        max_length=254,
        help_text=_("The e-mail the person signs in with: they need an account on the portal first."),
    )
    specialties = SpecialtiesField()

    def __init__(self, *args: Any, society: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specialties"].queryset = society.specialties.order_by("code")  # type: ignore[attr-defined]
        self.expert: User | None = None

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        self.expert = User.objects.filter(email__iexact=email).first()
        if self.expert is None:
            raise forms.ValidationError(
                _("Nobody has an account on the portal with the e-mail %(email)s. Ask the person to sign up first."),
                code="user_not_found",
                params={"email": email},
            )
        return email


class HandOverForm(forms.Form):
    """Whom an expert's open cases of one specialty go to: one of the other active experts of that specialty."""

    to = forms.TypedChoiceField(label=_("Hand the open cases to"), coerce=int)

    def __init__(self, *args: Any, experts: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.experts = {expert.pk: expert for expert in experts}
        self.fields["to"].choices = [(expert.pk, str(expert)) for expert in experts]  # type: ignore[attr-defined]

    def expert(self) -> User:
        return self.experts[self.cleaned_data["to"]]
