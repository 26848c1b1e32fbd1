"""The portal's side of the Ministry sync: the doctor's account link and the outbox of ledger records."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MinistryLink(models.Model):
    """The doctor's account at the Ministry portal, linked once («Синхронизировать аккаунт»)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Linking")
        LINKED = "linked", _("Linked")
        FAILED = "failed", _("Failed")

    doctor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ministry_link", verbose_name=_("doctor")
    )
    login = models.CharField(_("login at the Ministry portal"), max_length=150)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.TextField(_("reason"), blank=True)
    specialist_id = models.CharField(_("specialist id at the Ministry"), max_length=64, blank=True)
    cycles = models.JSONField(_("cycles at the Ministry"), default=list, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    linked_at = models.DateTimeField(_("linked"), null=True, blank=True)

    class Meta:
        verbose_name = _("Ministry account link")
        verbose_name_plural = _("Ministry account links")

    def __str__(self) -> str:
        return f"{self.doctor} → {self.login} ({self.get_state_display()})"


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
        ]

    def __str__(self) -> str:
        return f"{self.entry} · {self.get_state_display()}"
