from datetime import date, timedelta
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.db.models.expressions import CombinedExpression
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from nmo_portal.calendar import local_date, register_zone_name, validate_time_zone
from nmo_portal.indexes import PostgresBTreeIndex
from review.models import Activity, SearchIndex, Status, Transition, search_vector

SEARCH_FIELDS = ("title", "programme")


def days_after_first() -> "ExpressionWrapper[CombinedExpression]":
    """How many days an event runs after its first (0 for a one-day event), as a duration: the expression of the
    index `event_catalog_span_idx`, from which the catalogue reads the longest approved event's at once."""
    return ExpressionWrapper(F("end_date") - F("start_date"), output_field=DurationField())


class Event(Activity):
    """An educational event (мероприятие): a congress, a conference, a school, a webinar."""

    kind: ClassVar[str] = "event"
    search_fields: ClassVar[tuple[str, ...]] = SEARCH_FIELDS

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
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default=register_zone_name,
        validators=[validate_time_zone],
        help_text=_("The venue's zone for an in-person event; Moscow for an online one. Its days are the event's."),
    )
    # The event's calendar days in its own zone, derived from the moments and the zone on every save(), so that
    # the catalogue filters on an index and the day cap, the earned date and the certificates agree.
    start_date = models.DateField(_("first day"), editable=False, blank=True)
    end_date = models.DateField(_("last day"), editable=False, blank=True)

    class Meta(Activity.Meta):
        ordering = ["starts_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            *Activity.Meta.constraints,
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="event_days_ordered"),
        ]
        indexes = [
            *Activity.Meta.indexes,
            models.Index(fields=["status", "starts_at"], name="event_catalog_idx"),
            models.Index(fields=["status", "start_date"], name="event_catalog_start_idx"),
            models.Index(fields=["status", "end_date"], name="event_catalog_end_idx"),
            SearchIndex(search_vector(*SEARCH_FIELDS), name="event_search_idx"),
            PostgresBTreeIndex(days_after_first(), name="event_catalog_span_idx", condition=Q(status=Status.APPROVED)),
        ]

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The event must end after it starts.")
        if self.format in (self.Format.IN_PERSON, self.Format.MIXED) and not self.venue.strip():
            errors["venue"] = _("Give the venue of an in-person or mixed event.")
        if self.format in (self.Format.ONLINE, self.Format.MIXED) and not self.link.strip():
            errors["link"] = _("Give the link of an online or mixed event.")
        if self.format == self.Format.ONLINE and self.timezone != register_zone_name():
            errors["timezone"] = _("An online event keeps the register's time zone, %(zone)s.") % {
                "zone": register_zone_name()
            }
        if self.hours is not None and self.credits_requested is not None and self.credits_requested > self.hours:
            errors["credits_requested"] = _("Credits requested cannot exceed the academic hours.")
        if errors:
            raise ValidationError(errors)

    def set_local_dates(self) -> None:
        """Derive the first and last day from the moments and the zone (save() does it; bulk_create does not)."""
        if self.starts_at is not None and self.ends_at is not None:
            self.start_date = local_date(self.starts_at, self.timezone)
            self.end_date = local_date(self.ends_at, self.timezone)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.set_local_dates()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"starts_at", "ends_at", "timezone"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "start_date", "end_date"}
        super().save(*args, **kwargs)

    @property
    def days(self) -> int:
        """Calendar days the event spans in its own time zone (a 4-day congress: 4)."""
        return (self.end_date - self.start_date).days + 1

    def calendar_days(self) -> list[date]:
        return [self.start_date + timedelta(days=n) for n in range(self.days)]


class EventTransition(Transition):
    """One step of an event's review (see review.models.Transition)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("event"))

    @property
    def activity(self) -> Event:
        return self.event
