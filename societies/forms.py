from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from review.forms import SpecialtiesField

from .models import Announcement

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AnnouncementForm(forms.Form):
    """What society staff write. The service checks it all again (lengths, NUL, the society's specialties): the
    form offers only the society's specialties and says what is wrong field by field."""

    title = forms.CharField(label=_("Title"), max_length=Announcement.TITLE_MAX)
    body = forms.CharField(
        label=_("Text"),
        max_length=Announcement.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=Announcement._meta.get_field("body").help_text,
    )
    specialties = SpecialtiesField()
    published_at = forms.DateTimeField(
        label=_("Publication time"),
        required=False,
        widget=DATETIME_INPUT,
        help_text=_("Empty: now. A later time schedules the announcement until then (your time zone)."),
    )
    pinned = forms.BooleanField(
        label=_("Pin it above the others"), required=False, help_text=_("Pinned announcements are shown first.")
    )

    # The refusals of the service, by the field they concern.
    FIELDS_OF_CODES = {
        "title_required": "title",
        "title_too_long": "title",
        "body_required": "body",
        "body_too_long": "body",
        "specialties_required": "specialties",
        "specialty_not_in_society": "specialties",
        "published_at_out_of_range": "published_at",
    }

    def __init__(self, *args: Any, society: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["specialties"]
        assert isinstance(field, SpecialtiesField)  # noqa: S101 - declared just above
        field.queryset = society.specialties.order_by("code")

    @classmethod
    def initial_of(cls, announcement: Announcement) -> dict[str, Any]:
        return {
            "title": announcement.title,
            "body": announcement.body,
            "specialties": list(announcement.specialties.all()),
            "published_at": announcement.published_at,
            "pinned": announcement.pinned,
        }


class DigestForm(forms.Form):
    subscribed = forms.BooleanField(
        label=_("Send me a weekly e-mail with the announcements of my specialties"), required=False
    )
