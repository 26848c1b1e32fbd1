"""Codes, disputes, issuance batches and certificate files in admin; every change goes through a service."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from accounts.admin import OrganizationTypedFilter, ReadOnlyAdmin
from events.models import Event
from nmo_portal.admin_lists import BigTableAdmin, TypedFilter
from nmo_portal.errors import PortalError
from review.models import parse_public_number

from . import services
from .format import normalize_code
from .models import Dispute, EventCertificatesFile, IcpCode, IssuanceBatch


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class EventFilter(TypedFilter):
    title = _("event (public number or title)")
    parameter_name = "event_q"
    placeholder = _("2026-000123 or a word of the title")

    def queryset(self, request: HttpRequest, queryset: QuerySet[IcpCode]) -> QuerySet[IcpCode]:
        typed = (self.value() or "").strip()
        if not typed:
            return queryset
        number = parse_public_number(typed)  # «2026-42», «№ 2026 42»: the number as people type it
        events = Event.objects.filter(Q(public_number=number) if number else Q(title__icontains=typed)).values("pk")
        return queryset.filter(event__in=events)


class OrganizationFilter(OrganizationTypedFilter):
    organization_path = "event__organization"


@admin.register(IcpCode)
class IcpCodeAdmin(BigTableAdmin, admin.ModelAdmin[IcpCode]):
    """Twelve million codes: the list is read newest first by the primary key, counted by estimate
    (nmo_portal.admin_lists), and searched by what an index answers (`get_search_results`)."""

    list_display = ["code_display", "event", "status", "holder_name", "holder_email", "activated_by", "activated_at"]
    list_filter = ["status", EventFilter, OrganizationFilter]
    # Django's own search, for a term that is not a code: the activating doctor's e-mail or surname, from its
    # beginning (accounts' prefix indexes, then the codes' index of `activated_by`)
    search_fields = ["^activated_by__email", "^activated_by__last_name"]
    search_help_text = _(
        "A code (with or without dashes), or the beginning of the e-mail or surname of the doctor who activated it. "
        "With an event chosen in the filter, also the holder's name or e-mail on the provider's list."
    )
    list_select_related = ["event", "activated_by"]
    ordering = ["-id"]
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
        term = search_term.strip()
        if term and request.GET.get(EventFilter.parameter_name):
            # one event's codes (its index): the names and e-mails of the provider's list may be read through
            holder = Q(holder_name__icontains=term) | Q(holder_email__icontains=term)
            activator = Q(activated_by__email__istartswith=term) | Q(activated_by__last_name__istartswith=term)
            return queryset.filter(holder | activator), False
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
        return render(request, "admin/codes/revoke.html", context)


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
        return render(request, "admin/codes/dispute_resolve.html", context)


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


@admin.register(EventCertificatesFile)
class EventCertificatesFileAdmin(ReadOnlyAdmin[EventCertificatesFile]):
    """Which whole-event certificates files exist and in what state; the files themselves are downloaded from
    the event's codes page, which checks who asks."""

    list_display = ["event", "state", "built_at", "requested_at", "codes_count"]
    list_filter = ["state"]
    search_fields = ["event__title"]
    list_select_related = ["event"]
    exclude = ["file_name"]
