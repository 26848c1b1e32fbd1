from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin
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
class ModuleCompletionAdmin(ReadOnlyAdmin[ModuleCompletion]):
    list_display = ["created_at", "completed_module", "external_id", "doctor", "email", "completed_at", "credited_at"]
    list_filter = [("credited_at", admin.EmptyFieldListFilter), ("doctor", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "snils", "email", "module__title", "doctor__email", "doctor__last_name"]
    list_select_related = ["module", "doctor"]
    date_hierarchy = "created_at"

    @admin.display(description=_("module"), ordering="module__title")
    def completed_module(self, completion: ModuleCompletion) -> Module:
        return completion.module
