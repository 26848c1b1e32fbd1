"""The append-only credit ledger: every credit, reversal and adjustment of a doctor, one row each."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from review.models import PublicNumber


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
    # What earned the row and what it credits are named by kind and id, as review names activities (its public
    # numbers): codes, module completions and adjustments all write to the ledger, so it imports none of them.
    # The id of the ИКП code or of the module completion; none for an adjustment. A completion may be credited,
    # reversed (its СНИЛС turned out to be someone else's) and credited again, to its owner or to the same doctor
    # once the СНИЛС is back: several rows, of which at most one un-reversed credit (see ModuleCompletion.matched_by).
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    # Which credit of its source to this doctor the row is (a reversal: the number of the credit it takes back).
    # A credit reversed may be followed by another of the same source to the same doctor (a code released with a
    # СНИЛС typed by mistake, then activated again once the СНИЛС is back): the ledger numbers it one past the
    # credits of that source already reversed, so that a credit still standing holds the number and refuses it
    # (credits.services.ledger_append). db_default: processes of the release before this field still insert rows
    # while a deploy migrates, and they write only first credits; it also has the INSERT return the number.
    credit_number = models.PositiveSmallIntegerField(_("credit number"), default=1, db_default=1)
    activity_kind = models.CharField(
        _("activity kind"), max_length=16, choices=PublicNumber.Kind.choices, blank=True, default=""
    )
    activity_id = models.PositiveBigIntegerField(_("activity id"), null=True, blank=True)
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
            models.CheckConstraint(
                condition=Q(activity_kind="", activity_id__isnull=True)
                | (~Q(activity_kind="") & Q(activity_id__isnull=False)),
                name="ledger_activity_named_whole",
            ),
            # A code or a completion credits a doctor once at a time. A code's one holder at a time is decided by
            # the claim on the code's row; a code released from an account that had typed another person's СНИЛС
            # credits its holder afresh, and a completion reversed for the same reason may credit its real owner.
            # Once every credit of a source to a doctor has been reversed, the same doctor may be credited by it
            # again, under the next number: the numbering in `ledger_append` makes a second credit while one
            # stands take that credit's number, which this constraint refuses.
            models.UniqueConstraint(
                fields=["source", "source_id", "doctor", "credit_number"],
                condition=Q(kind="credit", source_id__isnull=False),
                name="ledger_one_credit_per_source_number",
            ),
            models.CheckConstraint(condition=Q(credit_number__gte=1), name="ledger_credit_number_from_one"),
        ]
        indexes = [
            models.Index(fields=["doctor", "earned_on"], name="ledger_doctor_idx"),
            models.Index(fields=["source", "source_id"], name="ledger_source_idx"),
        ]

    # Set by `credits.selectors.described()`: the Event or Module the row credits, and the ИКП code or module
    # completion that earned it; None for an adjustment of no activity, and until described.
    activity: Any = None
    source_object: Any = None

    def __str__(self) -> str:
        return f"{self.doctor} {self.credits:+d} ({self.get_source_display()})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The credit ledger is append-only: add a reversal or an adjustment instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


# Attempts to announce a ledger row to the doctor before the sweep gives up (credits.tasks.announce_missed).
ANNOUNCE_MAX_ATTEMPTS = 6


def announce_due() -> datetime:
    """When the periodic sweep may announce a new row that its own message has not announced by then."""
    return timezone.now() + timedelta(seconds=settings.ANNOUNCE_GRACE_SECONDS)


class OutboxRecord(models.Model):
    """What must follow one ledger row, written in the row's own transaction: its delivery to the Ministry
    portal, and its announcement to the doctor (the e-mail; `credits.tasks.announce_credit_entry`)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    entry = models.OneToOneField(
        "credits.CreditEntry", on_delete=models.PROTECT, related_name="outbox", verbose_name=_("ledger entry")
    )
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("doctor")
    )
    idempotency_key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    ministry_record_id = models.CharField(_("record id at the Ministry"), max_length=64, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)
    # db_default: processes of the release before this field still insert rows while a deploy migrates
    announce_attempts = models.PositiveIntegerField(_("announcement attempts"), default=0, db_default=0)
    # The original message announces at once; the sweep takes a row from this time on (a grace period, then
    # the claim of whoever tried last, then a growing pause after each failure).
    announce_due_at = models.DateTimeField(_("announcement due"), default=announce_due, db_default=Now())
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbox record")
        verbose_name_plural = _("Ministry outbox")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due_idx", condition=models.Q(state="pending")),
            # the rows the announcement sweep looks at: not announced, not given up (credits.tasks)
            models.Index(
                fields=["announce_due_at"],
                name="outbox_unannounced_idx",
                condition=models.Q(announced_at=None, announce_attempts__lt=ANNOUNCE_MAX_ATTEMPTS),
            ),
            # the rows nobody has taken to announce yet: what the worker's poll looks for (credits.tasks.announce_new)
            models.Index(
                fields=["id"], name="outbox_unclaimed_idx", condition=models.Q(announce_attempts=0, announced_at=None)
            ),
            # the failed rows, which administrators list to send again (the admin's state filter and its action)
            models.Index(fields=["id"], name="outbox_failed_idx", condition=models.Q(state="failed")),
            # the delivered rows by age: what the retention removes, oldest first (credits.tasks.prune_delivered_outbox)
            models.Index(fields=["delivered_at"], name="outbox_delivered_idx", condition=models.Q(state="delivered")),
        ]

    def __str__(self) -> str:
        return f"{self.entry} · {self.get_state_display()}"
