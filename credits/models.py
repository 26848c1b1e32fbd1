"""ИКП codes, their issuance, disputes, and the append-only credit ledger."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    def __str__(self) -> str:
        return f"{self.event} · {self.requested}"

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
            # A code credits once; a second credit row for it cannot exist.
            models.UniqueConstraint(fields=["code"], condition=Q(kind="credit"), name="ledger_one_credit_per_code"),
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
