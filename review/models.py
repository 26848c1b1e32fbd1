"""The one expert-review workflow that events and modules share.

The reviewable content lives in each app's model (events.Event, modules.Module), built on the abstract
`Activity` below, so that the status, the assigned reviewer and the granted credits sit on the row the
catalogue filters. Every change of status is a `Transition` row: who, when, from, to, why.
"""

from typing import ClassVar, TypeVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting an expert")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


EDITABLE = (Status.DRAFT, Status.CHANGES_REQUESTED, Status.WITHDRAWN)
SUBMITTABLE = EDITABLE
WITHDRAWABLE = (Status.SUBMITTED, Status.IN_REVIEW)
OPEN = (Status.SUBMITTED, Status.IN_REVIEW)


_A = TypeVar("_A", bound="Activity")


class ActivityQuerySet(models.QuerySet[_A]):
    def approved(self) -> "ActivityQuerySet[_A]":
        return self.filter(status=Status.APPROVED)

    def overdue(self) -> "ActivityQuerySet[_A]":
        return self.filter(status=Status.IN_REVIEW, due_at__lt=timezone.now())


class Activity(models.Model):
    """What events and modules have in common: an owner, specialties, hours, credits and a review state."""

    kind: ClassVar[str]

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="%(class)ss", verbose_name=_("organization")
    )
    title = models.CharField(_("title"), max_length=300)
    specialties = models.ManyToManyField("accounts.Specialty", related_name="%(class)ss", verbose_name=_("specialties"))
    hours = models.PositiveIntegerField(
        _("academic hours"),
        validators=[MinValueValidator(1)],
        help_text=_("Educational content only, 1 academic hour = 45 minutes."),
    )
    credits_requested = models.PositiveIntegerField(_("credits requested"), validators=[MinValueValidator(1)])
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    credits_granted = models.PositiveIntegerField(_("credits granted"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="%(app_label)s_%(class)s_hours_positive"),
            models.CheckConstraint(
                condition=Q(credits_requested__gt=0, credits_requested__lte=F("hours")),
                name="%(app_label)s_%(class)s_credits_within_hours",
            ),
            models.CheckConstraint(
                condition=Q(credits_granted__isnull=True)
                | Q(credits_granted__gt=0, credits_granted__lte=F("credits_requested")),
                name="%(app_label)s_%(class)s_granted_within_requested",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(credits_granted__isnull=False),
                name="%(app_label)s_%(class)s_approved_has_credits",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def is_overdue(self) -> bool:
        return self.status == Status.IN_REVIEW and self.due_at is not None and self.due_at < timezone.now()

    @property
    def credits(self) -> int | None:
        """What a doctor gets: the granted credits once approved."""
        return self.credits_granted if self.status == Status.APPROVED else None


class Transition(models.Model):
    """One step of an activity's review, kept for the provider's timeline and for audit."""

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="transitions"
    )
    module = models.ForeignKey(
        "modules.Module", on_delete=models.CASCADE, null=True, blank=True, related_name="transitions"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    credits = models.PositiveIntegerField(_("credits"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned reviewer"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("review transition")
        verbose_name_plural = _("review transitions")
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False, module__isnull=True) | Q(event__isnull=True, module__isnull=False),
                name="transition_one_activity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.activity}: {self.from_status or '∅'} → {self.to_status}"

    @property
    def activity(self) -> Activity:
        activity = self.event or self.module
        assert activity is not None  # noqa: S101 - guaranteed by transition_one_activity
        return activity
