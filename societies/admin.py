"""Announcements, digest subscriptions and digests sent, read in admin. Society staff write announcements on their
pages (societies.services), which administrators may open too; here administrators withdraw an announcement
or unsubscribe a doctor through the same services."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import DOCTOR_SEARCH_FIELDS, DOCTOR_SEARCH_HELP, DoctorSearch, ReadOnlyAdmin
from accounts.models import User
from nmo_portal.admin_lists import BigTableAdmin
from nmo_portal.errors import PortalError

from . import services
from .models import (
    Announcement,
    Answer,
    AnswerSet,
    DigestSent,
    DigestSubscription,
    Option,
    PreparedReport,
    Question,
    Survey,
    SurveyInvitation,
    SurveyParticipation,
)


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - the admin is signed in
    return request.user


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin[Announcement]):
    list_display = ["title", "society", "published_at", "pinned", "withdrawn_at", "created_by"]
    list_filter = [
        "pinned",
        ("withdrawn_at", admin.EmptyFieldListFilter),
        ("society", admin.RelatedOnlyFieldListFilter),  # the societies that wrote, not every organization
        "specialties",
    ]
    search_fields = ["title", "body"]
    date_hierarchy = "published_at"
    list_select_related = ["society", "created_by"]
    actions = ["withdraw"]

    @admin.action(description=_("Withdraw the selected announcements"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Announcement]) -> None:
        count = 0
        for announcement in queryset.filter(withdrawn_at__isnull=True):
            try:
                services.announcement_withdraw(announcement=announcement, actor=_actor(request))
            except PortalError as exc:
                self.message_user(request, f"{announcement}: {exc.message}", messages.ERROR)
                continue
            count += 1
        self.message_user(request, _("Withdrawn: %(count)d.") % {"count": count}, messages.SUCCESS)


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(ReadOnlyAdmin[DigestSubscription]):
    list_display = ["doctor", "created_at"]
    search_fields = ["doctor__email", "doctor__last_name"]
    list_select_related = ["doctor"]
    actions = ["unsubscribe"]

    @admin.action(description=_("Unsubscribe the selected doctors"))
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet[DigestSubscription]) -> None:
        count = sum(
            services.digest_unsubscribe(doctor=subscription.doctor, actor=_actor(request), via="admin")
            for subscription in queryset.select_related("doctor")
        )
        self.message_user(request, _("Unsubscribed: %(count)d.") % {"count": count}, messages.SUCCESS)


@admin.register(DigestSent)
class DigestSentAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[DigestSent]):
    """A row per subscriber and week: the weeks are a date filter, not the distinct weeks of every row."""

    list_display = ["doctor", "week_start", "announcements", "sent_at"]
    list_filter = [("week_start", admin.DateFieldListFilter)]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    list_select_related = ["doctor"]


# Needs surveys: society staff build them on their pages (societies.surveys); here administrators read them. Who
# answered (participations, invitations) and what was answered (responses, answers) are listed apart: nothing of
# an answer names or leads to a person.


class QuestionInline(admin.TabularInline[Question, Survey]):
    model = Question
    fields = ["order", "kind", "text", "required"]
    readonly_fields = ("order", "kind", "text", "required")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin[Survey]):
    list_display = ["title", "society", "status", "opens_on", "closes_on", "results_published_at"]
    list_filter = ["status", ("society", admin.RelatedOnlyFieldListFilter), "specialties"]
    search_fields = ["title"]
    list_select_related = ["society"]
    inlines = [QuestionInline]


class OptionInline(admin.TabularInline[Option, Question]):
    model = Option
    fields = ["order", "text"]
    readonly_fields = ("order", "text")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin[Question]):
    list_display = ["text", "survey", "kind", "order", "required"]
    list_filter = ["kind"]
    list_select_related = ["survey"]
    inlines = [OptionInline]


@admin.register(SurveyParticipation)
class SurveyParticipationAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[SurveyParticipation]):
    list_display = ["survey", "doctor"]
    list_filter = ["survey"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    ordering = ["-id"]
    list_select_related = ["survey", "doctor"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(DoctorSearch, BigTableAdmin, ReadOnlyAdmin[SurveyInvitation]):
    list_display = ["survey", "doctor"]
    list_filter = ["survey"]
    search_fields = DOCTOR_SEARCH_FIELDS
    search_help_text = DOCTOR_SEARCH_HELP
    ordering = ["-id"]
    list_select_related = ["survey", "doctor"]


@admin.register(AnswerSet)
class AnswerSetAdmin(BigTableAdmin, ReadOnlyAdmin[AnswerSet]):
    list_display = ["id", "survey", "specialty"]
    list_filter = ["survey", "specialty"]
    list_select_related = ["survey", "specialty"]
    ordering = ["id"]


@admin.register(Answer)
class AnswerAdmin(BigTableAdmin, ReadOnlyAdmin[Answer]):
    list_display = ["id", "question", "option", "number"]
    list_filter = ["question__survey"]
    list_select_related = ["question", "option"]
    ordering = ["id"]


@admin.register(Option)
class OptionAdmin(ReadOnlyAdmin[Option]):
    list_display = ["text", "question", "order"]
    list_select_related = ["question"]


@admin.register(PreparedReport)
class PreparedReportAdmin(ReadOnlyAdmin[PreparedReport]):
    """The society reports kept (societies.report_prepared): when each was computed, and whether a preparation is
    queued; "prepare again" queues one at once."""

    list_display = ["society", "year", "specialty", "computed_at", "queued_at", "failed_at"]
    readonly_fields = ["society", "year", "specialty", "computed_at", "queued_at", "failed_at", "figures"]
    list_filter = ["year"]
    list_select_related = ["society", "specialty"]
    ordering = ["-year", "society", "specialty"]
    actions = ["prepare_again"]

    @admin.action(description=_("Prepare the selected reports again"))
    def prepare_again(self, request: HttpRequest, queryset: QuerySet[PreparedReport]) -> None:
        from .report_prepared import report_queue

        queued = sum(report_queue(row=row, actor=_actor(request)) for row in queryset)
        self.message_user(request, _("Queued: %(count)d.") % {"count": queued}, messages.SUCCESS)
