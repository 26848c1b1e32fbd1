from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.admin import AuditedAdmin, OrganizationTypedFilter
from accounts.models import User
from nmo_portal.admin_lists import BigTableAdmin
from nmo_portal.errors import PortalError

from . import services
from .models import EDITABLE, Activity, PublicNumber, Status, Transition


class OverdueFilter(admin.SimpleListFilter):
    title = _("review deadline")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", str(_("Overdue"))), ("no", str(_("On time")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status=Status.IN_REVIEW, due_at__lt=timezone.now())
        if self.value() == "no":
            return queryset.exclude(status=Status.IN_REVIEW, due_at__lt=timezone.now())
        return queryset


class ReassignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label=_("New reviewer"),
        queryset=User.objects.filter(reviewer_appointments__is_active=True).distinct().order_by("last_name", "email"),
    )


class TransitionInline(admin.TabularInline[Any, Any]):
    """The review timeline on an activity's page; each app's admin gives its own Transition model."""

    extra = 0
    can_delete = False
    fields = ("created_at", "actor", "from_status", "to_status", "credits", "reviewer", "comment")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ActivityAdmin(AuditedAdmin[Any]):
    """Shared by events and modules: review state is changed only through the workflow's actions (review/services.py).

    Once submitted, what the experts judge and doctors are credited for (the organization, specialties, dates,
    hours and credits) is read-only here too, as on the provider's pages; other corrections (a typo in the title,
    a moved link) remain possible and leave an audit row. Each app's admin sets `inlines` to its own
    TransitionInline, since each app keeps its activities' steps in its own table.
    """

    # thousands of organizations: typed in the filter, chosen by autocomplete in the form
    list_filter = ["status", OverdueFilter, "specialties", OrganizationTypedFilter]
    search_fields = ["public_number", "title", "organization__name", "organization__inn", "reviewer__email"]
    list_select_related = ["organization", "reviewer"]
    autocomplete_fields = ["organization"]
    filter_horizontal = ["specialties"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "public_number",
        "status",
        "reviewer",
        "credits_granted",
        "submitted_at",
        "assigned_at",
        "due_at",
        "decided_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    actions = ["reassign"]
    frozen_fields = ["organization", "specialties", "hours", "credits_requested"]  # once out of the provider's hands

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status not in EDITABLE:
            fields += [name for name in self.frozen_fields if name not in fields]
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # providers register activities on their pages (review.services.activity_save)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # only a draft nobody has judged; the bulk action (no obj) is off, so each deletion is looked at
        return obj is not None and obj.status == Status.DRAFT and super().has_delete_permission(request, obj)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Activity) -> bool:
        return obj.is_overdue

    @admin.action(description=_("Reassign to another reviewer"))
    def reassign(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = ReassignForm(request.POST)
            if form.is_valid():
                done = 0
                for activity in queryset:
                    try:
                        services.activity_reassign(
                            activity=activity,
                            reviewer=form.cleaned_data["reviewer"],
                            actor=request.user,  # type: ignore[arg-type]
                        )
                        done += 1
                    except PortalError as exc:
                        self.message_user(request, f"{activity}: {exc.message}", messages.ERROR)
                if done:
                    self.message_user(request, _("Reassigned: %(count)d.") % {"count": done}, messages.SUCCESS)
                return None
        else:
            form = ReassignForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reassign to another reviewer"),
            "form": form,
            "activities": queryset,
            "action": "reassign",
            "opts": self.model._meta,
        }
        return render(request, "admin/review/reassign.html", context)


class TransitionAdmin(BigTableAdmin, admin.ModelAdmin[Any]):
    """Each app's list of review steps (events', modules'), read-only: only the workflow writes them.
    Subclasses put their activity's foreign key in list_display, search_fields and list_select_related.
    A few steps per activity of five years: counted by estimate, newest first by id."""

    list_filter = ["to_status", "from_status"]
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transition | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Transition | None = None) -> bool:
        return False


@admin.register(PublicNumber)
class PublicNumberAdmin(admin.ModelAdmin[PublicNumber]):
    """The sequence of public numbers, for looking up which activity holds one; given only at approval."""

    list_display = ["number", "kind", "activity_id", "issued_at"]
    list_filter = ["kind"]
    search_fields = ["number"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
