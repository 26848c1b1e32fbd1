"""The portal's side of the Ministry sync: the doctor's account link and the outbox of ledger records."""

from django.conf import settings
from django.db import models
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
    # When the records the Ministry holds for the doctor were last read (HeldRecord): a reading that found none
    # leaves no rows to tell it by.
    records_read_at = models.DateTimeField(_("records read from the Ministry"), null=True, blank=True)

    class Meta:
        verbose_name = _("Ministry account link")
        verbose_name_plural = _("Ministry account links")

    def __str__(self) -> str:
        return f"{self.doctor} → {self.login} ({self.get_state_display()})"


class HeldRecord(models.Model):
    """An education record the Ministry holds for the doctor, as last read from the Ministry portal.

    The portfolio lists those the portal did not send itself (their idempotency key is none of the doctor's
    outbox rows), so that nothing counts twice. Refreshed by `ministry_sync.services.held_records_refresh`."""

    class Kind(models.TextChoices):
        MODULES = "iomZet", _("Interactive educational modules")
        PROGRAMME = "trainingProgrammeZet", _("Programmes of educational organizations")
        EVENTS = "educationElementZet", _("Educational events")
        OTHER = "otherZet", _("Other")

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="held_records", verbose_name=_("doctor")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    hours = models.IntegerField(_("hours (ЗЕТ)"))
    title = models.CharField(_("title"), max_length=500)
    earned_on = models.DateField(_("earned on"))
    specialty_code = models.CharField(_("specialty code"), max_length=16, blank=True)
    source_ref = models.CharField(_("reference"), max_length=200, blank=True)
    fetched_at = models.DateTimeField(_("read from the Ministry"), default=timezone.now)

    class Meta:
        ordering = ["doctor", "earned_on", "id"]
        verbose_name = _("record held by the Ministry")
        verbose_name_plural = _("records held by the Ministry")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "idempotency_key"], name="held_record_once_per_doctor")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.hours})"
