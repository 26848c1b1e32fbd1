import hashlib
import secrets
import zoneinfo
from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.indexes import OpClass
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone as djtz
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from nmo_portal.calendar import today
from nmo_portal.i18n import localized
from nmo_portal.indexes import PostgresBTreeIndex, PostgresGinIndex

from .snils import format_snils, validate_snils
from .work import REGION_NAMES, REGIONS, validate_inn

# Not model choices: the tz database changes with the OS, and migrations must not follow it.
TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


class Specialty(models.Model):
    """A medical specialty with its official code from the nomenclature (e.g. 31.08.20 Психиатрия)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> "User":
        if not email:
            raise ValueError("An e-mail is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: e-mail is the login. Roles come from what the user has (see selectors)."""

    email = models.EmailField(_("e-mail"), unique=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="ru")
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=djtz.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]
        # The admin's searches by an e-mail's or a surname's beginning: Django's `^email` (istartswith) is
        # UPPER(email::text) LIKE UPPER('ivanov@%'), which these serve whatever the database's collation
        # (text_pattern_ops). PostgreSQL only: SQLite's small tables are scanned.
        indexes = [
            PostgresBTreeIndex(OpClass(Upper("email"), name="text_pattern_ops"), name="user_email_prefix_idx"),
            PostgresBTreeIndex(OpClass(Upper("last_name"), name="text_pattern_ops"), name="user_last_name_prefix_idx"),
            # the admin's «staff: yes» filter, a few hundred among 450,000 users, in the list's order
            models.Index(fields=["email"], condition=Q(is_staff=True), name="user_staff_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name or self.email


class DoctorProfile(models.Model):
    """What makes a user a doctor (специалист): СНИЛС and specialties.

    A typed СНИЛС is the doctor's word: several unconfirmed accounts may hold the same number, so that a
    squatter never locks the owner out. The Ministry link confirms it (`snils_confirmed_at`), and a confirmed
    number belongs to one account only.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="doctor_profile", verbose_name=_("user"))
    snils = models.CharField(_("СНИЛС"), max_length=11, null=True, blank=True, validators=[validate_snils])
    snils_confirmed_at = models.DateTimeField(
        _("СНИЛС confirmed by the Ministry"),
        null=True,
        blank=True,
        help_text=_("Set when the Ministry portal linked the account with this СНИЛС."),
    )
    specialties = models.ManyToManyField(Specialty, blank=True, related_name="doctors", verbose_name=_("specialties"))
    accreditation_reminders = models.BooleanField(
        _("e-mail reminders about accreditation"),
        default=True,
        help_text=_("The filing window opens, 90 days are left, hours are short while time runs out."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("doctor profile")
        verbose_name_plural = _("doctor profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(snils__isnull=True) | Q(snils__regex=r"^[0-9]{11}$"),
                name="doctor_snils_eleven_digits",
            ),
            models.CheckConstraint(
                condition=Q(snils_confirmed_at__isnull=True) | Q(snils__isnull=False),
                name="doctor_confirmed_snils_present",
            ),
            # Typed numbers may repeat; a confirmed one belongs to one account.
            models.UniqueConstraint(
                fields=["snils"], condition=Q(snils_confirmed_at__isnull=False), name="doctor_confirmed_snils_unique"
            ),
        ]
        indexes = [models.Index(fields=["snils"], name="doctor_snils_idx")]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def snils_display(self) -> str:
        return format_snils(self.snils) if self.snils else ""

    @property
    def snils_confirmed(self) -> bool:
        return self.snils is not None and self.snils_confirmed_at is not None


class WorkRecord(models.Model):
    """One period of work in the doctor's work history: where, in which post and specialty, from and to.

    "To" stays empty while the doctor works there. Years of practice in a specialty are computed from these
    periods, overlaps counted once (`accounts.selectors.practice_days`).

    `clean()` holds the rules every writer meets, the doctor's pages (through accounts.services) and the admin's
    form alike: no NUL characters (PostgreSQL cannot store them), dates between EARLIEST and today with "to" not
    before "from", a specialty the portal offers, and at most MAX_PER_DOCTOR records a doctor."""

    EARLIEST = date(1950, 1, 1)
    MAX_PER_DOCTOR = 50
    TEXT_FIELDS = ("employer", "employer_inn", "unit", "position")

    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="work_records", verbose_name=_("doctor"))
    employer = models.CharField(_("employer"), max_length=300)
    employer_inn = models.CharField(_("employer's ИНН"), max_length=12, validators=[validate_inn])
    region = models.CharField(_("region"), max_length=2, choices=REGIONS)
    unit = models.CharField(_("unit"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty"))
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("to"), null=True, blank=True, help_text=_("Leave empty while you work there."))
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["doctor", "-started_on", "-id"]
        verbose_name = _("work record")
        verbose_name_plural = _("work records")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="work_record_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(employer_inn__regex=r"^([0-9]{10}|[0-9]{12})$"), name="work_record_inn_digits"
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "specialty"], name="work_record_doctor_idx"),
            models.Index(fields=["employer_inn"], name="work_record_inn_idx"),
            # the admin's search by a word of the employer (icontains: UPPER(employer::text) LIKE UPPER('%word%'))
            PostgresGinIndex(OpClass(Upper("employer"), name="gin_trgm_ops"), name="work_record_employer_trgm_idx"),
        ]

    def __str__(self) -> str:
        until = f"{self.ended_on:%d.%m.%Y}" if self.ended_on else "…"
        return f"{self.employer}, {self.position} ({self.started_on:%d.%m.%Y}–{until})"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    @property
    def region_name(self) -> str:
        return REGION_NAMES.get(self.region, self.region)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        for name in self.TEXT_FIELDS:
            if "\x00" in (getattr(self, name) or ""):
                errors[name] = ValidationError(
                    _("The text holds a character that cannot be saved."), code="null_characters_not_allowed"
                )
        last_day = today()
        for name in ("started_on", "ended_on"):
            day = getattr(self, name)
            if not isinstance(day, date):
                continue  # clean_fields() has said what is wrong with it
            if day > last_day:
                errors[name] = ValidationError(_("The date cannot be in the future."), code="work_date_in_future")
            elif day < self.EARLIEST:
                errors[name] = ValidationError(
                    _("The date cannot be before %(earliest)s."),
                    code="work_date_too_early",
                    params={"earliest": f"{self.EARLIEST:%d.%m.%Y}"},
                )
        if (
            isinstance(self.started_on, date)
            and isinstance(self.ended_on, date)
            and self.ended_on < self.started_on
            and "ended_on" not in errors
        ):
            errors["ended_on"] = ValidationError(
                _("The end of the period cannot be before its start."), code="work_dates_reversed"
            )
        if self.specialty_id is not None and not self._specialty_allowed():
            errors["specialty"] = ValidationError(
                _("Choose one of the specialties the portal offers."), code="work_specialty_inactive"
            )
        if (
            self._state.adding
            and self.doctor_id is not None
            and WorkRecord.objects.filter(doctor_id=self.doctor_id).count() >= self.MAX_PER_DOCTOR
        ):
            errors[NON_FIELD_ERRORS] = ValidationError(
                ngettext(
                    "A work history holds at most %(count)d record.",
                    "A work history holds at most %(count)d records.",
                    self.MAX_PER_DOCTOR,
                )
                % {"count": self.MAX_PER_DOCTOR},
                code="work_history_full",
            )
        if errors:
            raise ValidationError(errors)

    def _specialty_allowed(self) -> bool:
        """An active specialty; or, on a record that already has it, one the portal has retired since, so that the
        rest of an old record stays editable."""
        if Specialty.objects.filter(pk=self.specialty_id, is_active=True).exists():
            return True
        return not self._state.adding and WorkRecord.objects.filter(pk=self.pk, specialty_id=self.specialty_id).exists()


class Organization(models.Model):
    """A provider of education: registered by a user, verified by an administrator before it may act."""

    class Kind(models.TextChoices):
        NKO = "nko", _("Non-profit organization (НКО)")
        SOCIETY = "society", _("Professional society")
        UNIVERSITY = "university", _("University or educational organization")
        CONGRESS = "congress", _("Congress organizer")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    name = models.CharField(_("full name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    inn = models.CharField(_("ИНН"), max_length=12, unique=True)
    email = models.EmailField(_("contact e-mail"))
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    status_reason = models.TextField(_("reason for the decision"), blank=True)
    status_changed_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("registered by")
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    members: "models.ManyToManyField[User, Membership]" = models.ManyToManyField(
        User, through="Membership", related_name="organizations"
    )
    specialties = models.ManyToManyField(
        Specialty,
        blank=True,
        related_name="societies",
        verbose_name=_("specialties it is responsible for"),
        help_text=_("A professional society only: its experts review these specialties, set by administrators."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("provider organization")
        verbose_name_plural = _("provider organizations")
        constraints = [
            models.CheckConstraint(condition=Q(inn__regex=r"^([0-9]{10}|[0-9]{12})$"), name="organization_inn_digits")
        ]

    def __str__(self) -> str:
        return self.short_name or self.name

    @property
    def is_verified(self) -> bool:
        return self.status == self.Status.VERIFIED


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Organization administrator")
        MEMBER = "member", _("Member")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        ordering = ["organization", "user__email"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def open(self) -> "InvitationQuerySet":
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=djtz.now())


class Invitation(models.Model):
    """An invitation by e-mail to join an organization. Only the token's hash is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organization")
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_pending_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= djtz.now():
            return "expired"
        return "pending"


class ReviewerAppointment(models.Model):
    """An expert appointed by an administrator to review activities of one specialty."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="reviewer_appointments", verbose_name=_("reviewer")
    )
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="reviewer_appointments", verbose_name=_("specialty")
    )
    society = models.CharField(_("professional society"), max_length=200, blank=True)
    organization = models.ForeignKey(
        "Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="expert_appointments",
        verbose_name=_("appointed by the society"),
        help_text=_("The professional society whose administrators appointed the expert, if one did."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    appointed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("appointed by")
    )
    appointed_at = models.DateTimeField(_("appointed"), default=djtz.now)

    class Meta:
        ordering = ["specialty__code", "user__email"]
        verbose_name = _("reviewer appointment")
        verbose_name_plural = _("reviewer appointments")
        constraints = [models.UniqueConstraint(fields=["user", "specialty"], name="reviewer_appointment_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.specialty.code}"


class AuditEvent(models.Model):
    """Who did what to which object, when and from where. Written by services, never edited."""

    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=djtz.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["ip"], name="audit_ip_idx"),  # the admin's search by an address
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class ApiKeyQuerySet(models.QuerySet["OrganizationApiKey"]):
    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class OrganizationApiKey(models.Model):
    """A key for a provider's own systems. Shown once at creation; only its SHA-256 is kept."""

    PREFIX_LENGTH = 8

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("organization")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses the key, e.g. «LMS of the society»"))
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("organization API key")
        verbose_name_plural = _("organization API keys")

    def __str__(self) -> str:
        return f"{self.organization}: {self.name} ({self.prefix}…)"

    @classmethod
    def new_secret(cls) -> tuple[str, str]:
        """A fresh key as (prefix, full key). The prefix finds the row; the hash proves the rest."""
        prefix = secrets.token_hex(cls.PREFIX_LENGTH // 2)
        return prefix, f"nmo_{prefix}_{secrets.token_urlsafe(32)}"

    @staticmethod
    def prefix_of(key: str) -> str | None:
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "nmo":
            return None
        return parts[1]
