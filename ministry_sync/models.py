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

    class Meta:
        verbose_name = _("Ministry account link")
        verbose_name_plural = _("Ministry account links")

    def __str__(self) -> str:
        return f"{self.doctor} → {self.login} ({self.get_state_display()})"
