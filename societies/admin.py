"""Announcements, digest subscriptions and digests sent, read in admin. Society staff write announcements on their
pages (societies.services), which administrators may open too; here administrators withdraw an announcement
or unsubscribe a doctor through the same services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin
from accounts.models import User
from nmo_portal.errors import PortalError

from . import services
from .models import Announcement, DigestSent, DigestSubscription


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - the admin is signed in
    return request.user


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin[Announcement]):
    list_display = ["title", "society", "published_at", "pinned", "withdrawn_at", "created_by"]
    list_filter = ["pinned", ("withdrawn_at", admin.EmptyFieldListFilter), "society", "specialties"]
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
class DigestSentAdmin(ReadOnlyAdmin[DigestSent]):
    list_display = ["doctor", "week_start", "announcements", "sent_at"]
    list_filter = ["week_start"]
    search_fields = ["doctor__email"]
    list_select_related = ["doctor"]
