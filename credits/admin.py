from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from nmo_portal.errors import PortalError

from . import services
from .codes import normalize_code
from .models import CreditEntry, Dispute, IcpCode, IssuanceBatch


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(IcpCode)
class IcpCodeAdmin(admin.ModelAdmin[IcpCode]):
    list_display = ["display", "event", "status", "holder_name", "holder_email", "activated_by", "activated_at"]
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

    def has_delete_permission(self, request: HttpRequest, obj: IcpCode | None = None) -> bool:
        return False  # revoke instead: the ledger refers to codes

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


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin[CreditEntry]):
    """The ledger is append-only: administrators read it here; corrections are new rows."""

    list_display = ["created_at", "doctor", "kind", "source", "credits", "earned_on", "event", "module"]
    list_filter = ["kind", "source"]
    search_fields = ["doctor__email", "doctor__last_name", "event__title", "module__title", "code__code"]
    list_select_related = ["doctor", "event", "module"]
    date_hierarchy = "earned_on"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CreditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CreditEntry | None = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin[Dispute]):
    list_display = ["created_at", "doctor", "code_text", "event_name", "event_date", "failure", "state"]
    list_filter = ["state", "failure"]
    search_fields = ["code_text", "doctor__email", "event_name", "event_place"]
    list_select_related = ["doctor"]
    raw_id_fields = ["doctor", "code", "event", "resolved_by"]
    readonly_fields = ["resolved_by", "resolved_at", "created_at"]


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
