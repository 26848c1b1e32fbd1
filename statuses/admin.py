"""Status programmes in the admin. Programmes and their stages are data edited here (audited); who sits on a
commission and what happens to an application or a status go through the services, so nothing here bypasses
their rules, audit rows or e-mails: applications, statuses and stage results are read here, not edited."""

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.admin import AuditedAdmin, ReadOnlyAdmin
from accounts.models import User
from nmo_portal.calendar import today
from nmo_portal.errors import PortalError

from . import services
from .admin_forms import CommissionMemberAddForm, RevokeStatusForm
from .models import (
    CommissionMember,
    ProgrammeStage,
    StageResult,
    Status,
    StatusApplication,
    StatusProgramme,
    StatusReminder,
)

STATE_LABELS = {
    Status.State.VALID: pgettext_lazy("status state", "valid"),
    Status.State.EXPIRED: pgettext_lazy("status state", "expired"),
    Status.State.REVOKED: pgettext_lazy("status state", "revoked"),
}


class ProgrammeStageInline(admin.TabularInline[ProgrammeStage, StatusProgramme]):
    model = ProgrammeStage
    extra = 0
    fields = ["position", "kind", "name", "name_en", "pass_mark"]


@admin.register(StatusProgramme)
class StatusProgrammeAdmin(AuditedAdmin[StatusProgramme]):
    list_display = ["name", "slug", "region", "validity_years", "allowance_rub", "is_active"]
    list_filter = ["is_active", "region"]
    search_fields = ["name", "name_en", "slug", "authority"]
    prepopulated_fields = {"slug": ["name_en"]}
    filter_horizontal = ["specialties"]
    inlines = [ProgrammeStageInline]

    def has_delete_permission(self, request: HttpRequest, obj: StatusProgramme | None = None) -> bool:
        return False  # applications and statuses refer to it: close it to applications instead


@admin.register(CommissionMember)
class CommissionMemberAdmin(admin.ModelAdmin[CommissionMember]):
    """Seats are added through `commission_member_appoint` (the form's validation calls it) and ended through
    `commission_member_retire` (the action); a seat is never edited or deleted in place, so the decisions taken
    from it keep their member."""

    form = CommissionMemberAddForm
    list_display = ["user", "programme", "specialty", "employer_inn", "appointed_at", "retired_at"]
    list_filter = ["programme", "specialty", ("retired_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "user__last_name", "user__first_name", "employer_inn"]
    list_select_related = ["user", "programme", "specialty"]
    raw_id_fields = ["user"]
    actions = ["retire"]

    def get_form(
        self, request: HttpRequest, obj: CommissionMember | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[CommissionMember]]:
        form = super().get_form(request, obj, change, **kwargs)
        if issubclass(form, CommissionMemberAddForm):  # a class made for this request: the actor is this admin
            form.actor = request.user if isinstance(request.user, User) else None
        return form

    def has_change_permission(self, request: HttpRequest, obj: CommissionMember | None = None) -> bool:
        return False  # a wrong seat is retired and appointed again

    def has_delete_permission(self, request: HttpRequest, obj: CommissionMember | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CommissionMember, form: Any, change: bool) -> None:
        member = form.member  # appointed by the service when the form was validated
        for field in CommissionMember._meta.concrete_fields:
            setattr(obj, field.attname, getattr(member, field.attname))
        obj._state.adding = False
        obj._state.db = member._state.db

    def has_retire_permission(self, request: HttpRequest) -> bool:
        """Retiring a member is a change of the seat: who may only view seats does not see the action."""
        return request.user.has_perm("statuses.change_commissionmember")

    @admin.action(description=_("Retire from the commission"), permissions=["retire"])
    def retire(self, request: HttpRequest, queryset: QuerySet[CommissionMember]) -> None:
        done = 0
        for member in queryset.filter(retired_at__isnull=True):
            try:
                services.commission_member_retire(member=member, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except PortalError as exc:
                self.message_user(request, f"{member}: {exc.message}", messages.ERROR)
        self.message_user(request, _("Retired: %(count)d.") % {"count": done}, messages.SUCCESS)


def _snapshot(data: Any) -> SafeString:
    return format_html("<pre>{}</pre>", json.dumps(data, ensure_ascii=False, indent=2))


class StageResultInline(admin.TabularInline[StageResult, StatusApplication]):
    model = StageResult
    extra = 0
    fields = ["stage", "scheduled_at", "place", "score", "passed", "held_on", "comment", "recorded_by"]
    readonly_fields = ["stage", "scheduled_at", "place", "score", "passed", "held_on", "comment", "recorded_by"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StatusApplication)
class StatusApplicationAdmin(ReadOnlyAdmin[StatusApplication]):
    """Applications as the commission sees them, the portfolio frozen at submission included; every step is taken
    on the commission's pages, through the services."""

    list_display = ["programme", "specialty", "doctor", "state", "submitted_at", "closed_at"]
    list_filter = ["state", "programme", "specialty"]
    search_fields = ["doctor__email", "doctor__last_name", "doctor__first_name"]
    list_select_related = ["programme", "specialty", "doctor"]
    date_hierarchy = "submitted_at"
    fields = [
        "programme",
        "specialty",
        "doctor",
        "state",
        "renews",
        "public_consent",
        "submitted_at",
        "closed_at",
        "decided_by",
        "decision_comment",
        "employer_inns_display",
        "snapshot_display",
    ]
    readonly_fields = ["employer_inns_display", "snapshot_display"]
    inlines = [StageResultInline]

    @admin.display(description=_("current employers' ИНН at submission"))
    def employer_inns_display(self, application: StatusApplication) -> str:
        return ", ".join(application.employer_inns) or "—"

    @admin.display(description=_("portfolio at submission"))
    def snapshot_display(self, application: StatusApplication) -> SafeString:
        return _snapshot(application.snapshot)


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(STATE_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Status]) -> QuerySet[Status]:
        day = today()
        if self.value() == Status.State.VALID:
            return queryset.valid_on(day)  # type: ignore[attr-defined, no-any-return]
        if self.value() == Status.State.EXPIRED:
            return queryset.filter(revoked_at__isnull=True, expires_on__lte=day)
        if self.value() == Status.State.REVOKED:
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Status)
class StatusAdmin(ReadOnlyAdmin[Status]):
    """Statuses are awarded by the commission's decision and revoked by the action here, through
    `services.status_revoke` with a reason (audited, the holder told): no field is edited in place."""

    list_display = ["number", "doctor", "programme", "specialty", "awarded_on", "expires_on", "state"]
    list_filter = [StateFilter, "programme", "specialty", "public_consent"]
    search_fields = ["number", "doctor__last_name", "doctor__first_name", "doctor__email"]
    list_select_related = ["programme", "specialty", "doctor"]
    exclude = ["check_token"]  # the check page's link is the holder's to share
    actions = ["revoke"]

    @admin.display(description=_("state"))
    def state(self, status: Status) -> str:
        return str(STATE_LABELS[status.state_on(today())])

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revocation changes the status: who may only view statuses does not see the action."""
        return request.user.has_perm("statuses.change_status")

    @admin.action(
        description=_("Revoke the selected statuses (with a reason the holder is told)"), permissions=["revoke"]
    )
    def revoke(self, request: HttpRequest, queryset: QuerySet[Status]) -> HttpResponse | None:
        form = RevokeStatusForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for status in queryset:
                try:
                    services.status_revoke(status=status, actor=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
                    done += 1
                except PortalError as exc:
                    self.message_user(request, f"{status}: {exc.message}", messages.WARNING)
            self.message_user(request, _("Revoked: %(count)d.") % {"count": done}, messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revoke statuses"),
            "form": form,
            "objects": queryset.select_related("doctor"),
            "action": "revoke",
            "opts": self.model._meta,
        }
        return render(request, "admin/statuses/revoke.html", context)


@admin.register(StageResult)
class StageResultAdmin(ReadOnlyAdmin[StageResult]):
    list_display = ["application", "stage", "scheduled_at", "score", "passed", "held_on", "recorded_by"]
    list_filter = ["passed", "stage__programme", "stage__kind"]
    search_fields = ["application__doctor__email", "application__doctor__last_name"]
    list_select_related = ["application__programme", "application__specialty", "application__doctor", "stage"]


@admin.register(StatusReminder)
class StatusReminderAdmin(ReadOnlyAdmin[StatusReminder]):
    list_display = ["status", "days", "sent_at"]
    list_filter = ["days"]
    search_fields = ["status__number", "status__doctor__email"]
    list_select_related = ["status"]
