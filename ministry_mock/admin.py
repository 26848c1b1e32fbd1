"""The mock's tables in the portal's admin (they exist only where the mock is mounted: the dev server).

Records are what the Ministry received from us: shown, searchable, deletable, never edited, as an edit would
hide what the portal actually sent.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Faults, ReceivedRecord, Specialist, SpecialistCycle


class SpecialistCycleInline(admin.TabularInline[SpecialistCycle, Specialist]):
    model = SpecialistCycle
    extra = 0


@admin.register(Specialist)
class SpecialistAdmin(admin.ModelAdmin[Specialist]):
    list_display = ["full_name", "snils", "login", "cycle_count", "record_count", "created_at"]
    search_fields = ["full_name", "snils", "login"]
    list_filter = ["created_at", "cycles__specialty_code"]
    readonly_fields = ["created_at"]
    inlines = [SpecialistCycleInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Specialist]:
        return (
            super()
            .get_queryset(request)
            .annotate(cycle_total=Count("cycles", distinct=True), record_total=Count("records", distinct=True))
        )

    @admin.display(description=_("cycles"), ordering="cycle_total")
    def cycle_count(self, specialist: Any) -> int:
        return int(specialist.cycle_total)

    @admin.display(description=_("records"), ordering="record_total")
    def record_count(self, specialist: Any) -> int:
        return int(specialist.record_total)


@admin.register(SpecialistCycle)
class SpecialistCycleAdmin(admin.ModelAdmin[SpecialistCycle]):
    list_display = ["id", "specialist", "specialty_code", "starts_on", "ends_on", "zet_total"]
    search_fields = ["specialty_code", "specialist__full_name", "specialist__snils"]
    list_filter = ["specialty_code"]
    list_select_related = ["specialist"]
    autocomplete_fields = ["specialist"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SpecialistCycle]:
        return super().get_queryset(request).annotate(zet_sum=Sum("records__zet"))

    @admin.display(description=_("ЗЕТ received"), ordering="zet_sum")
    def zet_total(self, cycle: Any) -> int:
        return int(cycle.zet_sum or 0)


@admin.register(ReceivedRecord)
class ReceivedRecordAdmin(admin.ModelAdmin[ReceivedRecord]):
    list_display = ["received_at", "specialist", "kind", "zet", "title", "earned_on", "cycle", "idempotency_key"]
    list_filter = ["kind", "received_at", "earned_on"]
    search_fields = ["idempotency_key", "title", "source_ref", "specialist__snils", "specialist__full_name"]
    list_select_related = ["specialist", "cycle"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "specialist",
        "cycle",
        "idempotency_key",
        "kind",
        "zet",
        "title",
        "earned_on",
        "source_ref",
        "payload",
        "received_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ReceivedRecord | None = None) -> bool:
        return False


@admin.register(Faults)
class FaultsAdmin(admin.ModelAdmin[Faults]):
    list_display = ["id", "down", "latency_ms", "failure_rate", "updated_at"]
    list_display_links = ["id"]
    list_editable = ["down", "latency_ms", "failure_rate"]
    fields = ["down", "latency_ms", "failure_rate", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row only (pk=1, a database constraint); the data migration creates it.
        return not Faults.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Faults | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Faults, form: Any, change: bool) -> None:
        obj.pk = Faults.SINGLETON_PK
        super().save_model(request, obj, form, change)
