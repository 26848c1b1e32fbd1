from datetime import date, timedelta
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from review.models import Activity


class Event(Activity):
    """An educational event (мероприятие): a congress, a conference, a school, a webinar."""

    kind: ClassVar[str] = "event"

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        MIXED = "mixed", _("Mixed")

    programme = models.TextField(_("programme"))
    format = models.CharField(_("format"), max_length=16, choices=Format.choices)
    venue = models.CharField(_("venue"), max_length=300, blank=True, help_text=_("City and address"))
    link = models.URLField(_("link"), blank=True, help_text=_("Where participants join online"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    class Meta(Activity.Meta):
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            *Activity.Meta.constraints,
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
        ]
        indexes = [models.Index(fields=["status", "starts_at"], name="event_catalog_idx")]

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The event must end after it starts.")
        if self.format in (self.Format.IN_PERSON, self.Format.MIXED) and not self.venue.strip():
            errors["venue"] = _("Give the venue of an in-person or mixed event.")
        if self.format in (self.Format.ONLINE, self.Format.MIXED) and not self.link.strip():
            errors["link"] = _("Give the link of an online or mixed event.")
        if self.hours is not None and self.credits_requested is not None and self.credits_requested > self.hours:
            errors["credits_requested"] = _("Credits requested cannot exceed the academic hours.")
        if errors:
            raise ValidationError(errors)

    @property
    def start_date(self) -> date:
        return timezone.localtime(self.starts_at).date()

    @property
    def end_date(self) -> date:
        return timezone.localtime(self.ends_at).date()

    @property
    def days(self) -> int:
        """Calendar days the event spans in Moscow time (a 4-day congress: 4)."""
        return (self.end_date - self.start_date).days + 1

    def calendar_days(self) -> list[date]:
        return [self.start_date + timedelta(days=n) for n in range(self.days)]
