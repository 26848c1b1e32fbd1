"""Status programmes (SPEC.md, "Status programmes"): voluntary qualification statuses that regions and societies
award on top of the register, «Московский врач» the model.

A programme is data (who may apply, its stages in order, validity, allowance, the wait before a retake). A doctor
applies per specialty; the application freezes the portfolio as it stood (`snapshot`); commission members,
appointed per programme and specialty, record the stages' results in order and decide; an award is a `Status`
with a number, dates, a random token for its public check page, and the holder's consent to be named."""

import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import Specialty
from accounts.work import REGION_NAMES, REGIONS, validate_inn
from nmo_portal.calendar import add_months
from nmo_portal.i18n import localized


def new_check_token() -> str:
    """The public check page's token: random, unguessable, and unrelated to the status number."""
    return secrets.token_urlsafe(24)


class StatusProgramme(models.Model):
    """A programme as data: what it takes to apply, the stages, and what the status brings."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    slug = models.SlugField(_("key"), unique=True)
    authority = models.CharField(_("awarded by"), max_length=300)
    authority_en = models.CharField(_("awarded by, in English"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    description_en = models.TextField(_("description in English"), blank=True, max_length=5000)
    region = models.CharField(
        _("region"),
        max_length=2,
        choices=REGIONS,
        blank=True,
        help_text=_("Where the applicant must work, and where practice counts. Empty: anywhere."),
    )
    requires_employment_in_region = models.BooleanField(_("employment in the region required"), default=True)
    requires_document = models.BooleanField(_("a valid accreditation or specialist certificate required"), default=True)
    min_practice_years = models.PositiveSmallIntegerField(
        _("years of practice in the specialty"), default=5, validators=[MaxValueValidator(50)]
    )
    specialties = models.ManyToManyField(Specialty, related_name="status_programmes", verbose_name=_("specialties"))
    validity_years = models.PositiveSmallIntegerField(
        _("validity, years"), default=5, validators=[MinValueValidator(1), MaxValueValidator(25)]
    )
    allowance_rub = models.PositiveIntegerField(
        _("allowance per specialty, ₽ a month"), default=0, help_text=_("Shown to doctors; the portal pays nothing.")
    )
    retake_wait_days = models.PositiveIntegerField(
        _("wait before a retake, days"),
        default=365,
        validators=[MaxValueValidator(3650)],
        help_text=_("After a failed or refused attempt, a new application in the specialty waits this long."),
    )
    renewal_window_months = models.PositiveSmallIntegerField(
        _("renewal opens, months before expiry"), default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    number_prefix = models.CharField(
        _("status number prefix"), max_length=10, unique=True, help_text=_("Status numbers read PREFIX-YEAR-NNNNNN.")
    )
    is_active = models.BooleanField(_("accepts applications"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("status programme")
        verbose_name_plural = _("status programmes")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)

    @property
    def display_authority(self) -> str:
        return localized(self.authority, self.authority_en)

    @property
    def display_description(self) -> str:
        return localized(self.description, self.description_en)

    @property
    def region_name(self) -> str:
        return REGION_NAMES.get(self.region, "")

    def practice_region(self) -> str | None:
        """The region whose work counts towards the years of practice; None counts work anywhere."""
        return self.region or None


class ProgrammeStage(models.Model):
    """One stage of a programme's assessment, in order: a test with a pass mark, practical skills, an interview."""

    class Kind(models.TextChoices):
        TEST = "test", _("Test")
        PRACTICAL = "practical", _("Practical skills")
        INTERVIEW = "interview", _("Interview and portfolio defence")

    programme = models.ForeignKey(
        StatusProgramme, on_delete=models.CASCADE, related_name="stages", verbose_name=_("programme")
    )
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    pass_mark = models.DecimalField(
        _("pass mark, %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("A scored stage: the score in per cent that passes. Empty: the stage is passed or failed."),
    )

    class Meta:
        ordering = ["programme", "position"]
        verbose_name = _("programme stage")
        verbose_name_plural = _("programme stages")
        constraints = [
            models.UniqueConstraint(fields=["programme", "position"], name="stage_position_unique"),
            models.CheckConstraint(
                condition=Q(pass_mark__isnull=True) | Q(pass_mark__gte=0, pass_mark__lte=100),
                name="stage_pass_mark_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)

    @property
    def is_scored(self) -> bool:
        return self.pass_mark is not None


class CommissionMember(models.Model):
    """A person appointed by an administrator to a programme's commission for one specialty. `employer_inn` is
    the ИНН of the member's own employer: the member never decides on an applicant who works there."""

    programme = models.ForeignKey(
        StatusProgramme, on_delete=models.CASCADE, related_name="commission", verbose_name=_("programme")
    )
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="commission_seats",
        verbose_name=_("member"),
    )
    employer_inn = models.CharField(_("member's employer ИНН"), max_length=12, validators=[validate_inn])
    appointed_at = models.DateTimeField(_("appointed"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        ordering = ["programme", "specialty__code", "user__email"]
        verbose_name = _("commission member")
        verbose_name_plural = _("commission members")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "specialty", "user"],
                condition=Q(retired_at__isnull=True),
                name="commission_member_unique_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.programme} ({self.specialty.code})"


def open_first() -> Case:
    """0 for an open application, 1 for a closed one: the commission's queue lists the open ones first, oldest
    first. Its index holds this very expression, so that the queue's page is read in order and stops at 50."""
    return Case(When(state="open", then=Value(0)), default=Value(1), output_field=models.IntegerField())


class StatusApplication(models.Model):
    """A doctor's application for a programme's status in one specialty, and the attempt it opens.

    Open while the stages run; it ends withdrawn (by the doctor), failed (a stage failed), awarded or refused (the
    commission's decision). `snapshot` is the portfolio frozen at submission: what the commission sees, whatever
    the ledger does later."""

    class State(models.TextChoices):
        OPEN = "open", _("Under assessment")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        FAILED = "failed", _("Stage not passed")
        AWARDED = "awarded", _("Status awarded")
        REFUSED = "refused", _("Status refused")

    CLOSED_AFTER_ATTEMPT = (State.FAILED, State.REFUSED)  # these make a retake wait

    programme = models.ForeignKey(
        StatusProgramme, on_delete=models.PROTECT, related_name="applications", verbose_name=_("programme")
    )
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty"))
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="status_applications",
        verbose_name=_("doctor"),
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    renews = models.ForeignKey(
        "Status",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renews status"),
    )
    public_consent = models.BooleanField(
        _("agrees to be named in the public register"),
        default=False,
        help_text=_("Copied to the status when it is awarded; the holder may change it later."),
    )
    snapshot = models.JSONField(_("portfolio at submission"), default=dict, editable=False)
    employer_inns = models.JSONField(
        _("current employers' ИНН at submission"), default=list, editable=False, blank=True
    )
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_comment = models.TextField(_("decision comment"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("status application")
        verbose_name_plural = _("status applications")
        constraints = [
            models.UniqueConstraint(
                fields=["doctor", "programme", "specialty"],
                condition=Q(state="open"),
                name="status_application_one_open",
            ),
            models.CheckConstraint(
                condition=Q(state="open", closed_at__isnull=True) | (~Q(state="open") & Q(closed_at__isnull=False)),
                name="status_application_closed_when_ended",
            ),
        ]
        indexes = [
            # the commission's queue, oldest first, a page at a time: open ones, and all of them
            models.Index(
                fields=["programme", "specialty", "state", "submitted_at", "id"], name="status_application_queue_idx"
            ),
            models.Index(
                F("programme"),
                F("specialty"),
                open_first(),
                F("submitted_at"),
                F("id"),
                name="status_application_all_idx",
            ),
            models.Index(fields=["doctor", "programme", "specialty"], name="status_application_doctor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} — {self.specialty.code} — {self.doctor}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN


class StageResult(models.Model):
    """One stage of one application: when and where it is held (set by the commission), then its result."""

    application = models.ForeignKey(
        StatusApplication, on_delete=models.CASCADE, related_name="stage_results", verbose_name=_("application")
    )
    stage = models.ForeignKey(ProgrammeStage, on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    scheduled_at = models.DateTimeField(_("date and time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=300, blank=True)
    score = models.DecimalField(
        _("score, %"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    held_on = models.DateField(_("held on"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)

    class Meta:
        ordering = ["application", "stage__position"]
        verbose_name = _("stage result")
        verbose_name_plural = _("stage results")
        constraints = [
            models.UniqueConstraint(fields=["application", "stage"], name="stage_result_unique"),
            models.CheckConstraint(
                condition=Q(passed__isnull=True) | Q(recorded_at__isnull=False, held_on__isnull=False),
                name="stage_result_recorded_with_date",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="stage_result_score_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application} — {self.stage}"

    @property
    def is_recorded(self) -> bool:
        return self.passed is not None


class StatusQuerySet(models.QuerySet["Status"]):
    def valid_on(self, day: date) -> "StatusQuerySet":
        return self.filter(revoked_at__isnull=True, awarded_on__lte=day, expires_on__gt=day)

    def not_renewed(self) -> "StatusQuerySet":
        """Those no awarded renewal has taken over (the renewal's status counts from then on, once per holder)."""
        renewed = StatusApplication.objects.filter(renews=models.OuterRef("pk"), state=StatusApplication.State.AWARDED)
        return self.exclude(models.Exists(renewed))

    def in_public_register(self, day: date) -> "StatusQuerySet":
        return self.valid_on(day).not_renewed().filter(public_consent=True)


class Status(models.Model):
    """An awarded status: valid from `awarded_on` up to the day before `expires_on` (validity_years later, by the
    Civil Code's art. 192 as the accreditation's term), unless revoked."""

    class State:
        VALID = "valid"
        EXPIRED = "expired"
        REVOKED = "revoked"

    programme = models.ForeignKey(
        StatusProgramme, on_delete=models.PROTECT, related_name="statuses", verbose_name=_("programme")
    )
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty"))
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="statuses", verbose_name=_("holder")
    )
    application = models.OneToOneField(
        StatusApplication, on_delete=models.PROTECT, related_name="status", verbose_name=_("application")
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    check_token = models.CharField(_("check page token"), max_length=64, unique=True, default=new_check_token)
    awarded_on = models.DateField(_("awarded on"))
    expires_on = models.DateField(_("expires on"))
    public_consent = models.BooleanField(
        _("named in the public register"),
        default=False,
        help_text=_("The holder agreed to be named on the check page and in the public register."),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revocation"), blank=True, max_length=2000)

    objects = StatusQuerySet.as_manager()

    class Meta:
        ordering = ["-awarded_on", "-id"]
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gt=models.F("awarded_on")), name="status_expires_after"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""), name="status_revoked_with_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_on"], name="status_expires_idx"),
            models.Index(fields=["doctor", "programme", "specialty"], name="status_holder_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @staticmethod
    def expiry_of(awarded_on: date, years: int) -> date:
        return add_months(awarded_on, 12 * years)

    def state_on(self, day: date) -> str:
        if self.revoked_at is not None:
            return self.State.REVOKED
        if day >= self.expires_on:
            return self.State.EXPIRED
        return self.State.VALID

    def renewal_opens_on(self) -> date:
        return add_months(self.expires_on, -self.programme.renewal_window_months)


class StatusReminder(models.Model):
    """A reminder sent before a status expires, once per status and lead (`days` before expiry)."""

    status = models.ForeignKey(Status, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("status"))
    days = models.PositiveSmallIntegerField(_("days before expiry"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("status reminder")
        verbose_name_plural = _("status reminders")
        constraints = [models.UniqueConstraint(fields=["status", "days"], name="status_reminder_once")]

    def __str__(self) -> str:
        return f"{self.status} — {self.days}"
