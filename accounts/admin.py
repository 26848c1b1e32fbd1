import ipaddress
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from nmo_portal.admin_lists import BigTableAdmin, TypedFilter, boolean_column, snils_typed
from nmo_portal.errors import PortalError

from . import services
from .audit import audit_log
from .models import (
    AuditEvent,
    DoctorProfile,
    Invitation,
    Membership,
    Organization,
    OrganizationApiKey,
    ReviewerAppointment,
    Specialty,
    User,
    WorkRecord,
)

M = TypeVar("M", bound=Model)


def admin_audit(*, request: HttpRequest, obj: Model, verb: str, **details: Any) -> None:
    """An audit row for a change made in the admin form itself (not through a service, which writes its own)."""
    audit_log(actor=request.user, action=f"{obj._meta.label_lower}.admin_{verb}", obj=obj, **details)  # type: ignore[arg-type]


class AuditedAdmin(admin.ModelAdmin[M]):
    """Edits the admin allows on reference data and settings-like rows leave an audit row: what changed, by whom."""

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.changed_data or not change:  # "Save" on an unchanged form is no change
            admin_audit(request=request, obj=obj, verb="change" if change else "add", fields=list(form.changed_data))

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        admin_audit(request=request, obj=obj, verb="delete")
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        for obj in queryset:
            admin_audit(request=request, obj=obj, verb="delete")
        super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        changes = {
            "added": [str(obj) for obj in formset.new_objects],
            "changed": [f"{obj}: {', '.join(fields)}" for obj, fields in formset.changed_objects],
            "deleted": [str(obj) for obj in formset.deleted_objects],
        }
        if any(changes.values()):
            admin_audit(request=request, obj=form.instance, verb="change", inline=formset.model._meta.label, **changes)


class ReadOnlyAdmin(admin.ModelAdmin[M]):
    """Rows that their own pages or services write (a doctor's plan, a provider's reports): administrators read
    them here and change them, if at all, through those services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganizationTypedFilter(TypedFilter):
    """The organization of the listed rows, typed (thousands of organizations are no list of links): its ИНН or
    a word of its name. `organization_path` leads from the listed model to the organization."""

    title = _("organization (name or ИНН)")
    parameter_name = "organization_q"
    organization_path = "organization"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        typed = (self.value() or "").strip()
        if not typed:
            return queryset
        organizations = Organization.objects.filter(Q(inn=typed) | Q(name__icontains=typed)).values("pk")
        return queryset.filter(**{f"{self.organization_path}__in": organizations})


@admin.register(Specialty)
class SpecialtyAdmin(AuditedAdmin[Specialty]):
    list_display = ["code", "name", "name_en", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]


# A СНИЛС changes only through the doctor's profile (accounts.services.doctor_profile_update, which reverses what
# a number that leaves brought) and is confirmed only by the Ministry link; administrators reset the link.
SNILS_READ_ONLY = ["snils", "snils_confirmed_at"]


class DoctorProfileInline(admin.StackedInline[DoctorProfile, User]):
    model = DoctorProfile
    can_delete = False
    filter_horizontal = ["specialties"]
    readonly_fields = SNILS_READ_ONLY


# The search of a list of doctors' rows that an index answers: the beginning of the e-mail or of the surname
# (accounts' prefix indexes on users), or a СНИЛС typed whole (DoctorSearch). A word inside a name or an e-mail
# is not searched: among 450,000 users that is a scan of them all.
DOCTOR_SEARCH_FIELDS = ["^doctor__email", "^doctor__last_name"]
DOCTOR_SEARCH_HELP = _("The beginning of the doctor's e-mail or surname, or their СНИЛС.")


class DoctorSearch:
    """Mixed into the ModelAdmin of a list of doctors' rows: a term shaped as a СНИЛС finds the doctor by it
    (the profiles' index), any other term goes to `search_fields`."""

    snils_lookup = "doctor__doctor_profile__snils"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        snils = snils_typed(search_term)
        if snils:
            return queryset.filter(**{self.snils_lookup: snils}), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


@admin.register(User)
class UserAdmin(DoctorSearch, BigTableAdmin, AuditedAdmin[User], DjangoUserAdmin):  # type: ignore[type-arg]  # stubs require AbstractUser; ours is e-mail based
    ordering = ["email"]
    list_display = ["email", "name", "staff", "active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language"]
    search_fields = ["^email", "^last_name"]
    search_help_text = _("The beginning of the e-mail or surname, or a СНИЛС.")
    # a surname's beginning matches thousands of users spread over the whole table («Иванов»: one in 30 in the
    # bench): counted in e-mail order each match is read and sorted; in no order the count stops at its cap
    search_count_in_order = False
    staff = boolean_column("is_staff", User._meta.get_field("is_staff").verbose_name)
    active = boolean_column("is_active", User._meta.get_field("is_active").verbose_name)
    snils_lookup = "doctor_profile__snils"
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
    actions = ["adjust_credits"]

    @admin.action(description=_("Adjust the doctor's credits"))
    def adjust_credits(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose one doctor."), messages.WARNING)
            return None
        url = reverse("admin:credits_creditentry_adjust")
        return HttpResponseRedirect(f"{url}?{urlencode({'doctor': queryset.get().pk})}")

    @admin.display(description=_("Full name"), ordering="last_name")
    def name(self, user: User) -> str:
        return user.full_name


@admin.register(DoctorProfile)
class DoctorProfileAdmin(DoctorSearch, BigTableAdmin, AuditedAdmin[DoctorProfile]):
    list_display = ["user", "snils", "snils_confirmed_at", "accreditation_reminders", "updated_at"]
    list_filter = ["specialties", ("snils_confirmed_at", admin.EmptyFieldListFilter), "accreditation_reminders"]
    readonly_fields = SNILS_READ_ONLY
    search_fields = ["^user__email", "^user__last_name"]
    search_help_text = DOCTOR_SEARCH_HELP
    snils_lookup = "snils"
    ordering = ["-id"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["specialties"]


@admin.register(WorkRecord)
class WorkRecordAdmin(DoctorSearch, BigTableAdmin, AuditedAdmin[WorkRecord]):
    """The doctors' work histories. The admin's form runs WorkRecord.clean(), the rules the doctor's pages meet."""

    list_display = ["doctor", "employer", "employer_inn", "region", "position", "specialty", "started_on", "ended_on"]
    list_filter = ["region", "specialty", ("ended_on", admin.EmptyFieldListFilter)]
    # a word of the employer's name (its trigram index); an e-mail's beginning, a СНИЛС or an ИНН by get_search_results
    search_fields = ["employer"]
    search_help_text = _(
        "A word of the employer's name, the employer's ИНН, the beginning of the doctor's e-mail, or their СНИЛС."
    )
    list_select_related = ["doctor", "specialty"]
    raw_id_fields = ["doctor"]
    readonly_fields = ["created_at"]
    ordering = ["-id"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[WorkRecord], search_term: str) -> Any:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(doctor__email__istartswith=term), False
        if term.isdigit() and len(term) in (10, 12):
            return queryset.filter(employer_inn=term), False
        return super().get_search_results(request, queryset, search_term)


class MembershipInline(admin.TabularInline[Membership, Organization]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin[Organization]):
    list_display = ["name", "short_name", "kind", "inn", "status", "responsible_for", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "short_name", "inn", "email"]
    readonly_fields = ["status", "status_reason", "status_changed_at", "status_changed_by", "created_by", "created_at"]
    filter_horizontal = ["specialties"]
    inlines = [MembershipInline]
    actions = ["verify", "reject"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).prefetch_related("specialties")

    @admin.display(description=_("Specialties it is responsible for"))
    def responsible_for(self, organization: Organization) -> str:
        return ", ".join(specialty.code for specialty in organization.specialties.all()) or "—"

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
class MembershipAdmin(AuditedAdmin[Membership]):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization__status"]
    search_fields = ["user__email", "user__last_name", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin[Invitation]):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["token_hash", "invited_by", "created_at", "accepted_at", "accepted_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are sent from the organization page, which e-mails the link


@admin.register(ReviewerAppointment)
class ReviewerAppointmentAdmin(admin.ModelAdmin[ReviewerAppointment]):
    """Portal administrators appoint and retire any expert here, for any specialty, and may name the society the
    appointment belongs to; a society's administrators do the same for its specialties on the society's page."""

    list_display = ["user", "specialty", "organization", "society", "is_active", "appointed_at", "appointed_by"]
    list_filter = ["is_active", "specialty", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = [
        "user__email",
        "user__last_name",
        "society",
        "organization__name",
        "organization__short_name",
        "specialty__code",
        "specialty__name",
    ]
    list_select_related = ["user", "specialty", "organization", "appointed_by"]
    autocomplete_fields = ["user"]
    readonly_fields = ["appointed_by"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = Organization.objects.filter(kind=Organization.Kind.SOCIETY).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ReviewerAppointment, form: object, change: bool) -> None:
        if not change:
            obj.appointed_by = request.user  # type: ignore[assignment]
        if obj.organization is not None and not obj.society:
            obj.society = obj.organization.name[:200]  # the legacy text follows the society named
        super().save_model(request, obj, form, change)
        audit_log(
            actor=request.user,  # type: ignore[arg-type]
            action="reviewer.update" if change else "reviewer.appoint",
            obj=obj,
            specialty=obj.specialty.code,
            active=obj.is_active,
        )


class AuditObjectFilter(TypedFilter):
    """The object the rows are about, typed as the list shows it: its type, or its type and id
    («credits.creditentry 42»); the audit log's index of (object_type, object_id) answers both."""

    title = _("object (type, or type and id)")
    parameter_name = "object_q"
    placeholder = "codes.icpcode 42"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        object_type, _space, object_id = (self.value() or "").strip().partition(" ")
        if not object_type:
            return queryset
        queryset = queryset.filter(object_type=object_type.lower())
        return queryset.filter(object_id=object_id.strip()) if object_id.strip() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(BigTableAdmin, admin.ModelAdmin[AuditEvent]):
    """The audit log is evidence: administrators read it, nobody edits or deletes it. Millions of rows: the list
    is counted by estimate (nmo_portal.admin_lists) and searched by what an index answers."""

    list_display = ["created_at", "action", "actor", "object_type", "object_repr", "ip"]
    # no list of the actions or object types in use: that would read every row for its distinct values
    list_filter = [AuditObjectFilter]
    search_fields = ["=action", "^actor__email"]
    search_help_text = _("An action (such as code.activate), the beginning of the actor's e-mail, or an IP address.")
    list_select_related = ["actor"]
    ordering = ["-id"]  # the order of writing, by the primary key (the model's is by time, then id)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str) -> Any:
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(actor__email__istartswith=term), False
        try:
            address = ipaddress.ip_address(term)
        except ValueError:
            return queryset.filter(action=term) if term else queryset, False
        return queryset.filter(ip=str(address)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


@admin.register(OrganizationApiKey)
class OrganizationApiKeyAdmin(AuditedAdmin[OrganizationApiKey]):
    list_display = ["name", "organization", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "prefix", "organization__name", "organization__inn"]
    list_select_related = ["organization", "created_by"]
    fields = ["organization", "name", "prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["organization", "prefix", "key_hash", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created on the organization's page, which shows the key once

    def has_delete_permission(self, request: HttpRequest, obj: OrganizationApiKey | None = None) -> bool:
        return False  # revoke instead: the audit log refers to the key

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[OrganizationApiKey]) -> None:
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True).select_related("organization"):
            services.api_key_revoke(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, _("Revoked: %(count)d.") % {"count": count}, messages.SUCCESS)
