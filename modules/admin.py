from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import DOCTOR_SEARCH_FIELDS, DOCTOR_SEARCH_HELP, DoctorSearch, ReadOnlyAdmin
from nmo_portal.admin_lists import BigTableAdmin
from review.admin import ActivityAdmin, TransitionAdmin, TransitionInline

from .models import Module, ModuleCompletion, ModuleTransition


class ModuleTransitionInline(TransitionInline):
    model = ModuleTransition


@admin.register(Module)
class ModuleAdmin(ActivityAdmin):
    list_display = [
        "public_number",
        "title",
        "organization",
        "available_from",
        "available_until",
        "credits_requested",
        "credits_granted",
        "status",
        "reviewer",
        "due_at",
        "overdue",
    ]
    frozen_fields = [*ActivityAdmin.frozen_fields, "available_from", "available_until"]
    inlines = [ModuleTransitionInline]


@admin.register(ModuleTransition)
class ModuleTransitionAdmin(TransitionAdmin):
    list_display = ["created_at", "module", "from_status", "to_status", "actor", "credits"]
    search_fields = ["module__title", "actor__email", "comment"]
    list_select_related = ["module", "actor"]


@admin.register(ModuleCompletion)
class ModuleCompletionAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[ModuleCompletion]):
    """Millions of completions: newest first, counted by estimate (nmo_portal.admin_lists), searched by the
    credited doctor or a СНИЛС."""

    list_display = ["created_at", "completed_module", "external_id", "doctor", "email", "completed_at", "credited_at"]
    list_filter = [("credited_at", admin.EmptyFieldListFilter), ("doctor", admin.EmptyFieldListFilter)]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["module", "doctor"]
    ordering = ["-id"]

    @admin.display(description=_("module"), ordering="module__title")
    def completed_module(self, completion: ModuleCompletion) -> Module:
        return completion.module
