"""The one expert-review workflow that events and modules share.

The reviewable content lives in each app's model (events.Event, modules.Module), built on the abstract
`Activity` below, so that the status, the assigned reviewer and the granted credits sit on the row the
catalogue filters. Every change of status is a `Transition` row (in the app's own table, see Transition): who,
when, from, to, why. Review knows the apps' models only through review.kinds, never by import.
"""

import re
from typing import ClassVar, TypeVar

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nmo_portal.indexes import PostgresGinIndex


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


def search_vector(*fields: str) -> SearchVector:
    """The Russian full-text vector of an activity's words («депрессии» and «депрессия» share a lexeme). The
    catalogue's search and the GIN index of each kind (events, modules) are built from this one expression, so
    that PostgreSQL answers the search from the stored index instead of computing a vector per row."""
    return SearchVector(*fields, config="russian")


class SearchIndex(PostgresGinIndex):
    """The GIN index of a kind's `search_vector`, on PostgreSQL only: SQLite has no text vectors, and the search
    takes its substring path there."""


class Activity(models.Model):
    """What events and modules have in common: an owner, specialties, hours, credits and a review state."""

    kind: ClassVar[str]
    # The text fields the catalogue searches, in the order of the kind's search index (see search_vector).
    search_fields: ClassVar[tuple[str, ...]]

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
    # Given at approval (review.services.public_number_issue); see PublicNumber for its form.
    public_number = models.CharField(
        _("public number"), max_length=24, unique=True, null=True, blank=True, editable=False
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
        # The expert's queue (open cases) and their last decisions read a few rows of these, however many
        # cases an expert has decided over the years.
        indexes = [
            models.Index(fields=["reviewer", "status"], name="%(class)s_reviewer_status_idx"),
            models.Index(fields=["reviewer", "-decided_at"], name="%(class)s_reviewer_decided_idx"),
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


PUBLIC_NUMBER = re.compile(r"^\s*(?:№|N|No\.?)?\s*(\d{4})\s*[-‐‑–—/. ]\s*(\d{1,12})\s*$", re.IGNORECASE)


def format_public_number(*, year: int, serial: int) -> str:
    return f"{year}-{serial:06d}"


def parse_public_number(text: str) -> str | None:
    """A public number as people type it («2026-000042», «2026-42», «№ 2026 42») in its stored form, else None."""
    match = PUBLIC_NUMBER.match(text)
    if match is None:
        return None
    return format_public_number(year=int(match[1]), serial=int(match[2]))


class PublicNumber(models.Model):
    """The one sequence that numbers approved events and modules alike: a row's id is the serial of a number.

    The public number reads `YYYY-NNNNNN`: the year of approval and the serial, zero-padded to six digits (it
    grows beyond a million rather than wraps). The serial alone is unique, as the primary key of this table
    guarantees, so a number is unique across events and modules; the year tells a reader at a glance when the
    activity was approved, and digits with one dash are easy to read out, type and search.
    """

    class Kind(models.TextChoices):
        EVENT = "event", _("event")
        MODULE = "module", _("e-learning module")

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    activity_id = models.PositiveBigIntegerField(_("activity id"))
    number = models.CharField(_("public number"), max_length=24, unique=True, null=True, blank=True)
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("public number")
        verbose_name_plural = _("public numbers")
        constraints = [
            models.UniqueConstraint(fields=["kind", "activity_id"], name="public_number_one_per_activity"),
        ]

    def __str__(self) -> str:
        return self.number or str(self.pk)


class Transition(models.Model):
    """One step of an activity's review, kept for the provider's timeline and for audit.

    Abstract: each app keeps its activities' steps in its own table, with a foreign key to its model and
    `related_name="transitions"`, so that review writes and reads them through `activity.transitions` without
    importing the app (see transitions_of for the model behind that relation).
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Status.choices)
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
        abstract = True
        ordering = ["created_at", "id"]
        verbose_name = _("review transition")
        verbose_name_plural = _("review transitions")

    def __str__(self) -> str:
        return f"{self.activity}: {self.from_status or '∅'} → {self.to_status}"

    @property
    def activity(self) -> Activity:
        raise NotImplementedError  # each app's model returns its foreign key


def transitions_of(model: type[Activity]) -> type[Transition]:
    """The concrete Transition model of an activity model: the one behind its `transitions` relation."""
    relation = next(rel for rel in model._meta.related_objects if rel.get_accessor_name() == "transitions")
    related = relation.related_model
    assert isinstance(related, type)  # noqa: S101 - a model class, not "self"
    assert issubclass(related, Transition)  # noqa: S101 - each app builds its steps on Transition
    return related
