"""The ledger in admin: read-only rows, and the adjustment form that writes through `ledger_adjust`."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin import DOCTOR_SEARCH_FIELDS, DOCTOR_SEARCH_HELP, DoctorSearch
from accounts.models import Specialty, User
from nmo_portal.admin_lists import BigTableAdmin
from nmo_portal.errors import PortalError
from review import kinds
from review.models import Activity, PublicNumber, parse_public_number

from . import services
from .models import CreditEntry


class AdjustmentForm(forms.Form):
    """What an adjustment needs (SPEC: a signed amount, a reason, the activity if there is one). The rules (not
    zero, a reason) are the service's, so that its message is the one shown."""

    doctor = forms.ModelChoiceField(
        label=_("Doctor"),
        queryset=User.objects.all(),
        widget=AutocompleteSelect(CreditEntry._meta.get_field("doctor"), admin.site),
    )
    credits = forms.IntegerField(
        label=_("Credits"),
        help_text=_("Signed: 3 adds three credits, -3 takes three away."),
        min_value=-1000,
        max_value=1000,
    )
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    activity = forms.CharField(
        label=_("Event or module"),
        required=False,
        max_length=32,
        help_text=_("Its public number, as in the catalogue and on certificates (for example 2026-000042)."),
    )
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        required=False,
        help_text=_("For an adjustment that names no activity: the specialty whose record it corrects."),
    )

    def clean_activity(self) -> Activity | None:
        """The activity of that public number, whichever its kind (the ledger imports neither events nor modules:
        review's register of kinds finds it)."""
        text = self.cleaned_data["activity"].strip()
        if not text:
            return None
        number = parse_public_number(text)
        row = PublicNumber.objects.filter(number=number).first() if number else None
        activity = kinds.get(row.kind).model.objects.filter(pk=row.activity_id).first() if row else None
        if activity is None:
            raise forms.ValidationError(_("No event or module has this public number."), code="unknown_number")
        return activity


@admin.register(CreditEntry)
class CreditEntryAdmin(DoctorSearch, BigTableAdmin, admin.ModelAdmin[CreditEntry]):
    """The ledger is append-only: administrators read it here; corrections are new rows, added by the
    adjustment form (`ledger_adjust`), never by editing or deleting a row, superusers included. Fifteen million
    rows: newest first by the primary key, counted by estimate (nmo_portal.admin_lists), searched by the
    doctor (no `date_hierarchy`: it reads every row's date; the «earned on» filter offers the periods)."""

    list_display = ["created_at", "doctor", "kind", "source", "credits", "earned_on", "activity_ref", "actor"]
    list_filter = ["kind", "source", "activity_kind", "earned_on"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor", "actor"]
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("activity"), ordering="activity_id")
    def activity_ref(self, entry: CreditEntry) -> str:
        return f"{entry.get_activity_kind_display()} #{entry.activity_id}" if entry.activity_kind else "—"

    def has_change_permission(self, request: HttpRequest, obj: CreditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CreditEntry | None = None) -> bool:
        return False

    def may_adjust(self, request: HttpRequest) -> bool:
        # The model's add permission, which the generic add form never uses, is the one to adjust.
        return bool(request.user.is_staff and request.user.has_perm("credits.add_creditentry"))

    def get_urls(self) -> list[URLPattern]:
        adjust = path("adjust/", self.admin_site.admin_view(self.adjust_view), name="credits_creditentry_adjust")
        return [adjust, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "may_adjust": self.may_adjust(request)}
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_adjust(request):
            raise PermissionDenied
        form = AdjustmentForm(request.POST if request.method == "POST" else None, initial=request.GET.dict())
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.ledger_adjust(
                    doctor=data["doctor"],
                    credits=data["credits"],
                    reason=data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                    activity=data["activity"],
                    specialty=data["specialty"],
                )
            except PortalError as exc:
                field = {
                    "adjustment_zero": "credits",
                    "reason_required": "reason",
                    "specialty_required": "specialty",
                    "not_a_doctor": "doctor",
                }.get(exc.code)
                form.add_error(field, str(exc.message))
            else:
                self.message_user(
                    request,
                    _("The adjustment for %(doctor)s is recorded: %(credits)+d.")
                    % {"credits": entry.credits, "doctor": entry.doctor},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:credits_creditentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust a doctor's credits"),
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
        }
        return render(request, "admin/credits/creditentry/adjust.html", context)
