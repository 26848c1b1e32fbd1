from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from nmo_portal.errors import PortalError

from . import services
from .audit import audit_log
from .models import (
    AuditEvent,
    DoctorProfile,
    Invitation,
    Membership,
    Organization,
    ReviewerAppointment,
    Specialty,
    User,
)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin[Specialty]):
    list_display = ["code", "name", "name_en", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]


class DoctorProfileInline(admin.StackedInline[DoctorProfile, User]):
    model = DoctorProfile
    can_delete = False
    filter_horizontal = ["specialties"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]  # stubs require AbstractUser; ours is e-mail based
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["email", "last_name", "first_name", "doctor_profile__snils"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("last_name", "first_name", "middle_name")}),
        (_("Preferences"), {"fields": ("language", "timezone")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [DoctorProfileInline]


@admin.register(DoctorProfile)
class DoctorProfileAdmin(admin.ModelAdmin[DoctorProfile]):
    list_display = ["user", "snils", "updated_at"]
    list_filter = ["specialties"]
    search_fields = ["user__email", "user__last_name", "snils"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties"]


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin[Organization]):
    list_display = ["name", "short_name", "kind", "inn", "status", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "short_name", "inn", "email"]
    readonly_fields = ["status", "status_reason", "status_changed_at", "status_changed_by", "created_by", "created_at"]
    inlines = [MembershipInline]
    actions = ["verify", "reject"]

    @admin.action(description=_("Verify the selected organizations"))
    def verify(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            services.organization_decide(organization=organization, actor=request.user, verified=True)  # type: ignore[arg-type]
        self.message_user(request, _("Verified: %(count)d.") % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Reject the selected organizations (reason: incomplete registration data)"))
    def reject(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        for organization in queryset:
            try:
                services.organization_decide(
                    organization=organization,
                    actor=request.user,  # type: ignore[arg-type]
                    verified=False,
                    reason=str(_("The registration data is incomplete or could not be confirmed.")),
                )
            except PortalError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
                return
        self.message_user(request, _("Rejected: %(count)d.") % {"count": queryset.count()}, messages.WARNING)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization__status"]
    search_fields = ["user__email", "user__last_name", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["token_hash", "invited_by", "created_at", "accepted_at", "accepted_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are sent from the organization page, which e-mails the link


@admin.register(ReviewerAppointment)
class ReviewerAppointmentAdmin(admin.ModelAdmin[ReviewerAppointment]):
    list_display = ["user", "specialty", "society", "is_active", "appointed_at", "appointed_by"]
    list_filter = ["is_active", "specialty"]
    search_fields = ["user__email", "user__last_name", "society", "specialty__code", "specialty__name"]
    list_select_related = ["user", "specialty", "appointed_by"]
    autocomplete_fields = ["user"]
    readonly_fields = ["appointed_by"]

    def save_model(self, request: HttpRequest, obj: ReviewerAppointment, form: object, change: bool) -> None:
        if not change:
            obj.appointed_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit_log(
            actor=request.user,  # type: ignore[arg-type]
            action="reviewer.update" if change else "reviewer.appoint",
            obj=obj,
            specialty=obj.specialty.code,
            active=obj.is_active,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """The audit log is evidence: administrators read it, nobody edits or deletes it."""

    list_display = ["created_at", "action", "actor", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_repr", "object_id", "actor__email", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
