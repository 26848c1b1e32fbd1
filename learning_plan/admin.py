"""Cycle rules (editable, audited) and the doctors' plans (read-only) in admin."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import AuditedAdmin, ReadOnlyAdmin
from events.models import Event
from modules.models import Module

from .models import Cycle, CycleRule, PlannedActivity, ProgrammeEntry, RuleComponent


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
