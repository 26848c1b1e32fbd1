from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from nmo_portal.calendar import register_zone_name
from review.admin import ActivityAdmin, TransitionAdmin, TransitionInline

from .models import Event, EventTransition


class EventTransitionInline(TransitionInline):
    model = EventTransition


@admin.register(Event)
class EventAdmin(ActivityAdmin):
    list_display = [
        "public_number",
        "title",
        "organization",
        "format",
        "starts_at",
        "ends_at",
        "timezone",
        "credits_requested",
        "credits_granted",
        "status",
        "reviewer",
        "due_at",
        "overdue",
    ]
    list_filter = [*ActivityAdmin.list_filter, "format"]
    inlines = [EventTransitionInline]
    readonly_fields = [*ActivityAdmin.readonly_fields, "start_date", "end_date"]
    # the zone decides the event's calendar days: the day cap, the earned date, the cycle a credit counts in
    frozen_fields = [*ActivityAdmin.frozen_fields, "starts_at", "ends_at", "timezone"]

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Times are typed and shown in the event's own zone here too, as on the provider's form."""
        event = self.get_object(request, object_id) if object_id else None
        with timezone.override(event.timezone if event is not None else register_zone_name()):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()  # the form's times are converted while rendering
        return response


@admin.register(EventTransition)
class EventTransitionAdmin(TransitionAdmin):
    list_display = ["created_at", "event", "from_status", "to_status", "actor", "credits"]
    search_fields = ["event__title", "actor__email", "comment"]
    list_select_related = ["event", "actor"]
