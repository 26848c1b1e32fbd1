from django.contrib import admin

from review.admin import ActivityAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ActivityAdmin):
    list_display = [
        "title",
        "organization",
        "format",
        "starts_at",
        "ends_at",
        "credits_requested",
        "credits_granted",
        "status",
        "reviewer",
        "due_at",
        "overdue",
    ]
    list_filter = [*ActivityAdmin.list_filter, "format"]
    frozen_fields = [*ActivityAdmin.frozen_fields, "starts_at", "ends_at"]
