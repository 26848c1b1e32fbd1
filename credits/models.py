"""ИКП codes, their issuance, disputes, and the append-only credit ledger."""

import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nmo_portal.i18n import localized

from .codes import format_code


class IssuanceBatch(models.Model):
    """One issuance of codes for an event: a list of attendees or a number of blank codes."""

    class Kind(models.TextChoices):
        ATTENDEES = "attendees", _("Attendee list")
        BLANK = "blank", _("Blank codes")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Issuing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="batches", verbose_name=_("event"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    requested = models.PositiveIntegerField(_("codes requested"))
    issued = models.PositiveIntegerField(_("codes issued"), default=0)
    source_name = models.CharField(_("file"), max_length=255, blank=True)
    attendees = models.JSONField(default=list, blank=True, help_text="Validated attendees waiting to be issued")
    # Attendees of the list left out because they already held a code of the event: {"full_name", "email"}.
    skipped = models.JSONField(_("skipped attendees"), default=list, blank=True)
    # When every certificate of an attendee list has been e-mailed; they go out once the event has ended.
    mailed_at = models.DateTimeField(_("certificates e-mailed"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("issued by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("issuance")
        verbose_name_plural = _("issuances")
        indexes = [
            # the periodic mailing reads only the lists whose certificates are still to be sent
            models.Index(
                fields=["event"], condition=Q(kind="attendees", mailed_at__isnull=True), name="batch_mail_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.requested}"

    @property
    def skipped_count(self) -> int:
        return len(self.skipped)

    @property
    def progress(self) -> int:
        return (
            100 if self.state == self.State.DONE else int(100 * self.issued / self.requested) if self.requested else 0
        )


def new_verify_token() -> str:
    return secrets.token_urlsafe(18)


class IcpCode(models.Model):
    """An individual confirmation code (ИКП) printed on one certificate of one event."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        ACTIVATED = "activated", _("Activated")
        REVOKED = "revoked", _("Revoked")

    code = models.CharField(_("code"), max_length=12, unique=True)
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="codes", verbose_name=_("event"))
    batch = models.ForeignKey(
        IssuanceBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="codes", verbose_name=_("issuance")
    )
    holder_name = models.CharField(_("holder"), max_length=300, blank=True)
    holder_email = models.EmailField(_("holder's e-mail"), blank=True)
    holder_snils = models.CharField(_("holder's СНИЛС"), max_length=11, blank=True)
    verify_token = models.CharField(max_length=32, unique=True, default=new_verify_token, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ISSUED)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activated_codes",
        verbose_name=_("activated by"),
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    show_holder_name = models.BooleanField(
        _("show the holder's name on the check page"),
        default=False,
        help_text=_("Set by the doctor who activated the code."),
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
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    mailed_at = models.DateTimeField(_("certificate e-mailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("ИКП code")
        verbose_name_plural = _("ИКП codes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="activated") | Q(activated_by__isnull=False, activated_at__isnull=False),
                name="icp_activated_has_holder",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False), name="icp_revoked_has_time"
            ),
            # One doctor, one credited code per event, whatever the number of codes they hold.
            models.UniqueConstraint(
                fields=["activated_by", "event"],
                condition=Q(status="activated"),
                name="icp_one_activation_per_doctor_event",
            ),
        ]
        indexes = [models.Index(fields=["event", "status"], name="icp_event_status_idx")]

    def __str__(self) -> str:
        return format_code(self.code)

    @property
    def display(self) -> str:
        return format_code(self.code)

    @property
    def public_holder_name(self) -> str:
        """The name the public check page may show: only the doctor who activated the code, only with their
        consent, and never the name on the provider's list."""
        if self.status == self.Status.ACTIVATED and self.show_holder_name and self.activated_by is not None:
            return self.activated_by.full_name
        return ""

    @property
    def activated_by_email(self) -> str | None:
        """The e-mail of the account that activated the code (read with `select_related("activated_by")`)."""
        return self.activated_by.email if self.activated_by is not None else None

    @property
    def email_mismatch(self) -> bool:
        """Activated by an account whose e-mail is not the one the provider's list gave for the holder."""
        email = self.activated_by_email
        return bool(email and self.holder_email and email.lower() != self.holder_email.lower())


class CreditEntry(models.Model):
    """One row of the append-only credit ledger: a credit, its reversal, or an administrator's adjustment."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")

    class Source(models.TextChoices):
        CODE = "code", _("ИКП code")
        MODULE_COMPLETION = "module_completion", _("Module completion")
        ADJUSTMENT = "adjustment", _("Administrator's adjustment")

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_entries", verbose_name=_("doctor")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    code = models.ForeignKey(
        IcpCode, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("code")
    )
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("event")
    )
    module = models.ForeignKey(
        "modules.Module", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("module")
    )
    # A completion may be credited, reversed (its СНИЛС turned out to be someone else's) and credited again to
    # its owner: several rows, of which at most one un-reversed credit (see ModuleCompletion.matched_by).
    completion = models.ForeignKey(
        "ModuleCompletion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("module completion"),
    )
    # The specialty of an adjustment that names no activity: the Ministry keeps every record in a specialty's cycle.
    specialty = models.ForeignKey(
        "accounts.Specialty",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    credits = models.IntegerField(_("credits"))
    earned_on = models.DateField(_("earned on"))
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("caused by"),
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("credit ledger")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="credit", credits__gt=0)
                | Q(kind="reversal", credits__lt=0, reverses__isnull=False)
                | Q(kind="adjustment"),
                name="ledger_sign_matches_kind",
            ),
            # A code credits a doctor once. Its one holder at a time is decided by the claim on the code's row; a
            # code released from an account that had typed another person's СНИЛС credits its holder afresh.
            models.UniqueConstraint(
                fields=["code", "doctor"], condition=Q(kind="credit"), name="ledger_one_credit_per_code"
            ),
            # A completion credits a doctor once; after a reversal it may credit its real owner.
            models.UniqueConstraint(
                fields=["completion", "doctor"], condition=Q(kind="credit"), name="ledger_completion_credits_once"
            ),
        ]
        indexes = [models.Index(fields=["doctor", "earned_on"], name="ledger_doctor_idx")]

    def __str__(self) -> str:
        return f"{self.doctor} {self.credits:+d} ({self.get_source_display()})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The credit ledger is append-only: add a reversal or an adjustment instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Dispute(models.Model):
    """A doctor's claim that a code is theirs although activation failed; the provider or staff resolve it."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        REJECTED = "rejected", _("Rejected")

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("doctor")
    )
    code_text = models.CharField(_("code as typed"), max_length=40)
    code = models.ForeignKey(IcpCode, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes")
    event = models.ForeignKey(
        "events.Event",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes",
        verbose_name=_("event"),
    )
    event_name = models.CharField(_("event name"), max_length=300)
    event_date = models.DateField(_("event date"))
    event_place = models.CharField(_("place"), max_length=300)
    failure = models.CharField(_("what the portal said"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    resolution = models.TextField(_("resolution"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.code_text} — {self.doctor}"


class CycleRule(models.Model):
    """What a five-year cycle needs, as data: the default 144-hour model or the individual plan."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    slug = models.SlugField(_("key"), unique=True)
    years = models.PositiveSmallIntegerField(_("years"), default=5)
    total_hours = models.PositiveIntegerField(_("hours in all"))
    yearly_recommended = models.PositiveIntegerField(_("recommended per year"), null=True, blank=True)
    is_default = models.BooleanField(_("default for new cycles"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("cycle rule")
        verbose_name_plural = _("cycle rules")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_cycle_rule")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class RuleComponent(models.Model):
    """One block of a rule: which records count into it and how many hours it needs."""

    class Counts(models.TextChoices):
        PROGRAMME = "programme", _("Programmes of educational organizations")
        NMO = "nmo", _("НМО activities (events and modules)")
        EVENTS = "events", _("Educational events")
        MODULES = "modules", _("E-learning modules")

    rule = models.ForeignKey(CycleRule, on_delete=models.CASCADE, related_name="components", verbose_name=_("rule"))
    counts = models.CharField(_("counts"), max_length=16, choices=Counts.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    required_hours = models.PositiveIntegerField(_("hours required"))
    is_minimum = models.BooleanField(
        _("a minimum inside another block"),
        default=False,
        help_text=_("E.g. at least 16 of the 36 НМО hours from events."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rule", "order", "id"]
        verbose_name = _("rule component")
        verbose_name_plural = _("rule components")
        constraints = [models.UniqueConstraint(fields=["rule", "counts"], name="rule_component_unique")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.display_name} {self.required_hours}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class Cycle(models.Model):
    """A doctor's five-year cycle in one specialty."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cycles", verbose_name=_("doctor")
    )
    specialty = models.ForeignKey(
        "accounts.Specialty", on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty")
    )
    rule = models.ForeignKey(CycleRule, on_delete=models.PROTECT, related_name="cycles", verbose_name=_("rule"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["doctor", "specialty__code", "starts_on"]
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "specialty", "starts_on"], name="cycle_unique_start"),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="cycle_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.specialty.code} {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"

    def holds(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class ProgrammeEntry(models.Model):
    """A programme of an educational organization (повышение квалификации) the doctor entered with its document."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="programme_entries", verbose_name=_("doctor")
    )
    specialty = models.ForeignKey(
        "accounts.Specialty", on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty")
    )
    name = models.CharField(_("programme"), max_length=300)
    organization = models.CharField(_("educational organization"), max_length=300)
    hours = models.PositiveIntegerField(_("hours"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    document_number = models.CharField(_("document number"), max_length=100)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["-ends_on"]
        verbose_name = _("programme of an educational organization")
        verbose_name_plural = _("programmes of educational organizations")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="programme_hours_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="programme_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hours})"


class PlannedActivity(models.Model):
    """An approved activity the doctor added to the plan from the catalogue."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="planned", verbose_name=_("doctor")
    )
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    module = models.ForeignKey("modules.Module", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("planned activity")
        verbose_name_plural = _("planned activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False, module__isnull=True) | Q(event__isnull=True, module__isnull=False),
                name="planned_one_activity",
            ),
            models.UniqueConstraint(fields=["doctor", "event"], name="planned_event_once"),
            models.UniqueConstraint(fields=["doctor", "module"], name="planned_module_once"),
        ]

    def __str__(self) -> str:
        return str(self.event or self.module)


class ModuleCompletion(models.Model):
    """A provider's report that someone completed a module; credited at once or when the doctor signs up.

    `doctor`, `credited_at` and `matched_by` describe the credit that stands now: a credit reversed because
    the СНИЛС that brought it left the account clears them, and the completion waits for its owner again.
    """

    class MatchedBy(models.TextChoices):
        SNILS = "snils", _("confirmed СНИЛС")
        EMAIL = "email", _("confirmed e-mail")

    module = models.ForeignKey("modules.Module", on_delete=models.PROTECT, related_name="completions")
    external_id = models.CharField(_("provider's completion id"), max_length=100)
    snils = models.CharField(_("СНИЛС"), max_length=11, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    completed_at = models.DateTimeField(_("completed"))
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="module_completions",
        verbose_name=_("doctor"),
    )
    credited_at = models.DateTimeField(_("credited"), null=True, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=8, choices=MatchedBy.choices, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("reported by")
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("module completion")
        verbose_name_plural = _("module completions")
        constraints = [
            models.UniqueConstraint(fields=["module", "external_id"], name="completion_once_per_external_id"),
            models.CheckConstraint(condition=~Q(snils="") | ~Q(email=""), name="completion_identifies_doctor"),
            models.CheckConstraint(
                condition=Q(doctor__isnull=True, credited_at__isnull=True, matched_by="")
                | Q(doctor__isnull=False, credited_at__isnull=False, matched_by__in=["snils", "email"]),
                name="completion_credit_is_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["snils"], name="completion_snils_idx", condition=Q(doctor__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.module} · {self.external_id}"


class EventCertificatesFile(models.Model):
    """The file with every certificate of an event, kept in the private storage (STORAGES["private"]).

    It holds every unused code of the event, so its name has a random part and it is served only through a
    view that checks who asks. It is stale when a code was issued or revoked after it was built: the codes it
    was built from are remembered as their number and the highest code id (issuing raises the id, revoking
    lowers the number; activation changes nothing printed on a certificate).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Being built")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    event = models.OneToOneField(
        "events.Event", on_delete=models.CASCADE, related_name="certificates_file", verbose_name=_("event")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    # The name in the private storage of the last file built; kept while a new one is built.
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    started_at = models.DateTimeField(_("build started"), null=True, blank=True)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    codes_count = models.PositiveIntegerField(_("codes in the file"), default=0)
    last_code_id = models.BigIntegerField(_("last code in the file"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("event certificates file")
        verbose_name_plural = _("event certificates files")

    def __str__(self) -> str:
        return f"{self.event_id} · {self.state}"
