from django.contrib import admin

from review.admin import ActivityAdmin

from .models import Module


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
