from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import DOCTOR_SEARCH_FIELDS, DOCTOR_SEARCH_HELP, AuditedAdmin, DoctorSearch, ReadOnlyAdmin
from credits.models import OutboxRecord
from nmo_portal.admin_lists import BigTableAdmin, uuid_typed

from . import services
from .models import HeldRecord, MinistryLink


@admin.register(MinistryLink)
class MinistryLinkAdmin(DoctorSearch, BigTableAdmin, AuditedAdmin[MinistryLink]):
    list_display = ["doctor", "login", "state", "attempts", "requested_at", "linked_at"]
    list_filter = ["state"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    ordering = ["-id"]
    list_select_related = ["doctor"]
    readonly_fields = [
        "doctor",
        "state",
        "reason",
        "specialist_id",
        "cycles",
        "attempts",
        "requested_at",
        "linked_at",
        "records_read_at",
    ]
    actions = ["relink"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # doctors ask for the link themselves

    @admin.action(description=_("Allow the doctor to link again (removes the current link)"))
    def relink(self, request: HttpRequest, queryset: QuerySet[MinistryLink]) -> None:
        for link in queryset:
            services.link_reset(link=link, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("The doctors can link their accounts again."), messages.SUCCESS)


@admin.register(OutboxRecord)
class OutboxRecordAdmin(DoctorSearch, BigTableAdmin, admin.ModelAdmin[OutboxRecord]):
    """A row per ledger row ever written: newest first by the primary key, counted by estimate
    (nmo_portal.admin_lists); the failed rows, which the action sends again, by their partial index."""

    list_display = [
        "created_at",
        "doctor",
        "entry",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "announced_at",
    ]
    list_filter = ["state", "entry__source"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = _("The beginning of the doctor's e-mail or surname, their СНИЛС, or an idempotency key.")
    list_select_related = ["doctor", "entry__doctor"]  # the entry's name is its doctor's
    ordering = ["-id"]
    readonly_fields = [
        "entry",
        "doctor",
        "idempotency_key",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "ministry_record_id",
        "delivered_at",
        "announced_at",
        "announce_attempts",
        "announce_due_at",
        "created_at",
    ]
    actions = ["retry"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[OutboxRecord], search_term: str) -> Any:
        key = uuid_typed(search_term)
        if key is not None:
            return queryset.filter(idempotency_key=key), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxRecord | None = None) -> bool:
        return False

    @admin.action(description=_("Send the selected failed records again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxRecord]) -> None:
        count = 0
        for record in queryset.filter(state=OutboxRecord.State.FAILED):
            services.outbox_retry(record=record, actor=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, _("Queued again: %(count)d.") % {"count": count}, messages.SUCCESS)


@admin.register(HeldRecord)
class HeldRecordAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[HeldRecord]):
    """What the Ministry held for each doctor when last read: a copy of its data, replaced by the next reading
    (ministry_sync.services.held_records_refresh), so nothing here is edited."""

    list_display = ["doctor", "earned_on", "title", "kind", "hours", "specialty_code", "source_ref", "fetched_at"]
    list_filter = ["kind"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor"]
    raw_id_fields = ["doctor"]
    ordering = ["-id"]
