"""Forms of the statuses' admin: seating a commission member through its service, and revoking a status."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from nmo_portal.errors import PortalError

from . import services
from .models import CommissionMember


class CommissionMemberAddForm(forms.ModelForm[CommissionMember]):
    """Appoints through `services.commission_member_appoint`, whose refusals (a specialty the programme does not
    award, an ИНН that fails its checksum, a member seated already) become the form's errors.

    The service runs in `clean()`, not in `save_model()`: the admin reports whatever `save_model()` does as
    saved, so a refusal there could not be shown. The admin runs validation and saving in one transaction, so a
    later failure rolls the appointment back with the rest."""

    actor: User | None = None  # the administrator, set by the admin's get_form()

    class Meta:
        model = CommissionMember
        fields = ["programme", "specialty", "user", "employer_inn"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.member: CommissionMember | None = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors or self.actor is None:
            return data
        try:
            self.member = services.commission_member_appoint(
                programme=data["programme"],
                specialty=data["specialty"],
                user=data["user"],
                employer_inn=data["employer_inn"],
                actor=self.actor,
            )
        except PortalError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from None
        return data

    def validate_unique(self) -> None:
        pass  # the service refuses a second seat, with its own message

    def _post_clean(self) -> None:
        # The model's own validation would run after clean() and find the seat just created by the service.
        pass


class RevokeStatusForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=services.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The holder reads it in the e-mail; the check page shows only that the status is revoked."),
    )
