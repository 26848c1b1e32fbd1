"""Cycle rules, what accreditation needs and the filing stages (editable, audited); the doctors' plans and
portfolios (read-only: the doctor writes them through their pages and services) in admin."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import DOCTOR_SEARCH_FIELDS, DOCTOR_SEARCH_HELP, AuditedAdmin, DoctorSearch, ReadOnlyAdmin
from events.models import Event
from modules.models import Module
from nmo_portal.admin_lists import BigTableAdmin

from .models import (
    AccreditationAlternative,
    AccreditationDocument,
    AlternativeComponent,
    Cycle,
    CycleRule,
    FilingStage,
    PlannedActivity,
    Portfolio,
    PortfolioExport,
    PortfolioReminder,
    PortfolioScan,
    ProgrammeEntry,
    ReportSection,
    RuleComponent,
)


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
class CycleAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[Cycle]):
    # 300,000 doctors' cycles: searched by the doctor, the specialty is a filter
    list_display = ["doctor", "specialty", "rule", "starts_on", "ends_on", "created_at"]
    list_filter = ["rule", "specialty"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor", "specialty", "rule"]
    ordering = ["-id"]


@admin.register(ProgrammeEntry)
class ProgrammeEntryAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[ProgrammeEntry]):
    list_display = ["name", "doctor", "organization", "specialty", "hours", "starts_on", "ends_on", "document_number"]
    list_filter = ["specialty"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor", "specialty"]
    ordering = ["-id"]


@admin.register(PlannedActivity)
class PlannedActivityAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[PlannedActivity]):
    list_display = ["created_at", "doctor", "planned_event", "planned_module"]
    list_filter = [("event", admin.EmptyFieldListFilter), ("module", admin.EmptyFieldListFilter)]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    ordering = ["-id"]
    list_select_related = ["doctor", "event", "module"]

    # the model's fields have no verbose name of their own; a model change would need a migration for a label
    @admin.display(description=_("event"), ordering="event__title")
    def planned_event(self, planned: PlannedActivity) -> Event | None:
        return planned.event

    @admin.display(description=_("module"), ordering="module__title")
    def planned_module(self, planned: PlannedActivity) -> Module | None:
        return planned.module


# The accreditation portfolio ----------------------------------------------------------------------------------


class AlternativeComponentInline(admin.TabularInline[AlternativeComponent, AccreditationAlternative]):
    """An alternative needs at least one component: one without any would make everybody ready on hours."""

    model = AlternativeComponent
    extra = 0
    min_num = 1
    validate_min = True


@admin.register(AccreditationAlternative)
class AccreditationAlternativeAdmin(AuditedAdmin[AccreditationAlternative]):
    """What periodic accreditation needs: any active alternative suffices (SPEC.md); reference data, audited."""

    list_display = ["name", "name_en", "order", "is_active"]
    list_filter = ["is_active"]
    inlines = [AlternativeComponentInline]


@admin.register(FilingStage)
class FilingStageAdmin(AuditedAdmin[FilingStage]):
    """The stages after filing and how long each takes, from which the portfolio page estimates dates."""

    list_display = ["name", "order", "rule", "days", "weekday"]


@admin.register(AccreditationDocument)
class AccreditationDocumentAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[AccreditationDocument]):
    list_display = ["doctor", "specialty", "kind", "number", "issued_on", "expires_on"]
    list_filter = ["kind", "specialty"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor", "specialty"]
    ordering = ["-id"]


class ReportSectionInline(admin.StackedInline[ReportSection, Portfolio]):
    model = ReportSection
    extra = 0
    can_delete = False
    readonly_fields = ["section", "text", "updated_at"]

    def has_add_permission(self, request: HttpRequest, obj: Portfolio | None = None) -> bool:
        return False


class PortfolioScanInline(admin.TabularInline[PortfolioScan, Portfolio]):
    """The scans' names and sizes only: the files are the doctor's, read back only by the doctor's own page."""

    model = PortfolioScan
    extra = 0
    can_delete = False
    fields = ("kind", "title", "content_type", "size", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Portfolio | None = None) -> bool:
        return False


@admin.register(Portfolio)
class PortfolioAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[Portfolio]):
    list_display = ["doctor", "document", "agreement", "filing", "filed_on", "outcome_on", "updated_at"]
    list_filter = ["agreement", "filing"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    ordering = ["-id"]
    list_select_related = ["doctor", "document__specialty"]
    raw_id_fields = ["doctor", "document"]
    inlines = [ReportSectionInline, PortfolioScanInline]


@admin.register(PortfolioExport)
class PortfolioExportAdmin(ReadOnlyAdmin[PortfolioExport]):
    list_display = ["portfolio", "state", "progress", "size", "created_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["portfolio__doctor__email"]
    list_select_related = ["portfolio__doctor", "portfolio__document__specialty"]
    exclude = ["file"]


@admin.register(PortfolioReminder)
class PortfolioReminderAdmin(ReadOnlyAdmin[PortfolioReminder]):
    list_display = ["sent_at", "doctor", "document", "kind"]
    list_filter = ["kind"]
    search_fields = ["doctor__email"]
    list_select_related = ["doctor", "document__specialty"]
