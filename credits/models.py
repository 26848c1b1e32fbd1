"""The append-only credit ledger: every credit, reversal and adjustment of a doctor, one row each."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
        "codes.IcpCode", on_delete=models.PROTECT, null=True, blank=True, related_name="entries", verbose_name=_("code")
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
        "modules.ModuleCompletion",
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
