from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.admin import AuditedAdmin, ReadOnlyAdmin
from accounts.models import Specialty, User
from events.models import Event
from modules.models import Module
from nmo_portal.errors import PortalError

from . import services
from .codes import normalize_code
from .models import (
    CreditEntry,
    Cycle,
    CycleRule,
    Dispute,
    EventCertificatesFile,
    IcpCode,
    IssuanceBatch,
    ModuleCompletion,
    PlannedActivity,
    ProgrammeEntry,
    RuleComponent,
)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(IcpCode)
class IcpCodeAdmin(admin.ModelAdmin[IcpCode]):
    list_display = ["code_display", "event", "status", "holder_name", "holder_email", "activated_by", "activated_at"]
    list_filter = ["status", "event__organization"]
    search_fields = ["code", "holder_name", "holder_email", "event__title", "activated_by__email"]
    list_select_related = ["event", "activated_by"]
    raw_id_fields = ["event", "batch", "activated_by", "revoked_by"]
    readonly_fields = [
        "code",
        "event",
        "batch",
        "verify_token",
        "status",
        "activated_by",
        "activated_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
        "created_at",
    ]
    actions = ["revoke"]
    show_full_result_count = False  # counting millions of codes on every page is needless

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # codes are issued for an event by its provider

    def has_change_permission(self, request: HttpRequest, obj: IcpCode | None = None) -> bool:
        # The holder decides who may activate the code, and the name shown on the check page is the doctor's
        # consent: neither is rewritten in place. A wrong holder is fixed by revoking and reissuing.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IcpCode | None = None) -> bool:
        return False  # revoke instead: the ledger refers to codes

    @admin.display(description=_("code"), ordering="code")
    def code_display(self, code: IcpCode) -> str:
        return code.display

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[IcpCode], search_term: str) -> Any:
        normalized = normalize_code(search_term)
        if len(normalized) == 12:
            return queryset.filter(code=normalized), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Revoke the selected codes (reverses credits already given)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[IcpCode]) -> HttpResponse | None:
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for code in queryset:
                try:
                    services.code_revoke(code=code, actor=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
                    done += 1
                except PortalError as exc:
                    self.message_user(request, f"{code}: {exc.message}", messages.WARNING)
            self.message_user(request, _("Revoked: %(count)d.") % {"count": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revoke codes"),
            "form": form,
            "objects": queryset,
            "action": "revoke",
            "opts": self.model._meta,
        }
        return render(request, "admin/credits/revoke.html", context)


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
    event = forms.ModelChoiceField(
        label=_("Event"),
        queryset=Event.objects.all(),
        required=False,
        widget=AutocompleteSelect(CreditEntry._meta.get_field("event"), admin.site),
    )
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        required=False,
        help_text=_("For an adjustment that names no activity: the specialty whose record it corrects."),
    )
    module = forms.ModelChoiceField(
        label=_("E-learning module"),
        queryset=Module.objects.all(),
        required=False,
        widget=AutocompleteSelect(CreditEntry._meta.get_field("module"), admin.site),
    )


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin[CreditEntry]):
    """The ledger is append-only: administrators read it here; corrections are new rows, added by the
    adjustment form (`ledger_adjust`), never by editing or deleting a row, superusers included."""

    list_display = ["created_at", "doctor", "kind", "source", "credits", "earned_on", "event", "module", "actor"]
    list_filter = ["kind", "source", "earned_on"]
    search_fields = ["doctor__email", "doctor__last_name", "event__title", "module__title", "code__code", "comment"]
    list_select_related = ["doctor", "event", "module", "actor"]
    date_hierarchy = "earned_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

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
                    event=data["event"],
                    module=data["module"],
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


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Answer to the doctor"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin[Dispute]):
    """The doctor's claim is read here as it was made; the answer goes through `dispute_resolve` (the actions),
    which writes the audit row: no field is edited in place."""

    list_display = ["created_at", "doctor", "code_text", "event_name", "event_date", "failure", "state"]
    list_filter = ["state", "failure"]
    search_fields = ["code_text", "doctor__email", "event_name", "event_place"]
    list_select_related = ["doctor"]
    actions = ["accept", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # doctors open disputes from the activation page

    def has_change_permission(self, request: HttpRequest, obj: Dispute | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Dispute | None = None) -> bool:
        return False

    @admin.action(description=_("Accept the selected disputes (with an answer to the doctor)"))
    def accept(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> HttpResponse | None:
        return self._resolve(request, queryset, accepted=True)

    @admin.action(description=_("Reject the selected disputes (with an answer to the doctor)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> HttpResponse | None:
        return self._resolve(request, queryset, accepted=False)

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Dispute], *, accepted: bool) -> HttpResponse | None:
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for dispute in queryset:
                try:
                    services.dispute_resolve(
                        dispute=dispute,
                        actor=request.user,  # type: ignore[arg-type]
                        accepted=accepted,
                        resolution=form.cleaned_data["resolution"],
                    )
                    done += 1
                except PortalError as exc:
                    self.message_user(request, f"{dispute}: {exc.message}", messages.ERROR)
            if done:
                self.message_user(request, _("Answered: %(count)d.") % {"count": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Accept disputes") if accepted else _("Reject disputes"),
            "form": form,
            "objects": queryset,
            "action": "accept" if accepted else "reject",
            "opts": self.model._meta,
        }
        return render(request, "admin/credits/dispute_resolve.html", context)


@admin.register(IssuanceBatch)
class IssuanceBatchAdmin(admin.ModelAdmin[IssuanceBatch]):
    list_display = ["created_at", "event", "kind", "state", "requested", "issued", "created_by"]
    list_filter = ["state", "kind"]
    search_fields = ["event__title", "source_name"]
    list_select_related = ["event", "created_by"]
    exclude = ["attendees"]
    readonly_fields = [
        "event",
        "kind",
        "state",
        "requested",
        "issued",
        "source_name",
        "error",
        "created_by",
        "finished_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class RuleComponentInline(admin.TabularInline[RuleComponent, CycleRule]):
    model = RuleComponent
    extra = 0


@admin.register(CycleRule)
class CycleRuleAdmin(AuditedAdmin[CycleRule]):
    """Cycle rules are reference data, edited here (SPEC); each change leaves an audit row."""

    list_display = ["name", "slug", "years", "total_hours", "yearly_recommended", "is_default"]
    list_filter = ["is_default"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [RuleComponentInline]


@admin.register(Cycle)
class CycleAdmin(ReadOnlyAdmin[Cycle]):
    list_display = ["doctor", "specialty", "rule", "starts_on", "ends_on", "created_at"]
    list_filter = ["rule", "specialty"]
    search_fields = ["doctor__email", "doctor__last_name", "specialty__code", "specialty__name"]
    list_select_related = ["doctor", "specialty", "rule"]
    date_hierarchy = "starts_on"


@admin.register(ProgrammeEntry)
class ProgrammeEntryAdmin(ReadOnlyAdmin[ProgrammeEntry]):
    list_display = ["name", "doctor", "organization", "specialty", "hours", "starts_on", "ends_on", "document_number"]
    list_filter = ["specialty"]
    search_fields = ["name", "organization", "document_number", "doctor__email", "doctor__last_name"]
    list_select_related = ["doctor", "specialty"]
    date_hierarchy = "ends_on"


@admin.register(PlannedActivity)
class PlannedActivityAdmin(ReadOnlyAdmin[PlannedActivity]):
    list_display = ["created_at", "doctor", "planned_event", "planned_module"]
    list_filter = [("event", admin.EmptyFieldListFilter), ("module", admin.EmptyFieldListFilter)]
    search_fields = ["doctor__email", "doctor__last_name", "event__title", "module__title"]
    list_select_related = ["doctor", "event", "module"]

    # the model's fields have no verbose name of their own; a model change would need a migration for a label
    @admin.display(description=_("event"), ordering="event__title")
    def planned_event(self, planned: PlannedActivity) -> Event | None:
        return planned.event

    @admin.display(description=_("module"), ordering="module__title")
    def planned_module(self, planned: PlannedActivity) -> Module | None:
        return planned.module


@admin.register(ModuleCompletion)
class ModuleCompletionAdmin(ReadOnlyAdmin[ModuleCompletion]):
    list_display = ["created_at", "completed_module", "external_id", "doctor", "email", "completed_at", "credited_at"]
    list_filter = [("credited_at", admin.EmptyFieldListFilter), ("doctor", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "snils", "email", "module__title", "doctor__email", "doctor__last_name"]
    list_select_related = ["module", "doctor"]
    date_hierarchy = "created_at"

    @admin.display(description=_("module"), ordering="module__title")
    def completed_module(self, completion: ModuleCompletion) -> Module:
        return completion.module


@admin.register(EventCertificatesFile)
class EventCertificatesFileAdmin(ReadOnlyAdmin[EventCertificatesFile]):
    """Which whole-event certificates files exist and in what state; the files themselves are downloaded from
    the event's codes page, which checks who asks."""

    list_display = ["event", "state", "built_at", "requested_at", "codes_count"]
    list_filter = ["state"]
    search_fields = ["event__title"]
    list_select_related = ["event"]
    exclude = ["file_name"]
