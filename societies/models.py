"""What professional societies publish for the doctors of their specialties: announcements, and the weekly digest
of them that doctors opt in to."""

from datetime import datetime

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Specialty, User

TITLE_MAX = 200
BODY_MAX = 20_000


class AnnouncementQuerySet(models.QuerySet["Announcement"]):
    def published(self, *, at: datetime | None = None) -> "AnnouncementQuerySet":
        """Visible to everyone: its moment has come and it has not been withdrawn."""
        return self.filter(withdrawn_at__isnull=True, published_at__lte=at or timezone.now())

    def of_specialties(self, specialties: "models.QuerySet[Specialty]") -> "AnnouncementQuerySet":
        """Those naming any of `specialties` (a query, kept in SQL), each once."""
        named = Announcement.specialties.through.objects.filter(
            announcement=OuterRef("pk"), specialty__in=specialties.values("pk")
        )
        return self.filter(Exists(named))

    def for_doctor(self, doctor_id: int) -> "AnnouncementQuerySet":
        return self.of_specialties(Specialty.objects.filter(doctors__user_id=doctor_id))

    def pinned_first(self) -> "AnnouncementQuerySet":
        return self.order_by("-pinned", "-published_at", "-pk")

    def for_list(self) -> "AnnouncementQuerySet":
        """What a list shows of each: its society and specialties, in a fixed number of queries."""
        return self.select_related("society").prefetch_related("specialties")


class Announcement(models.Model):
    """News of a professional society for the doctors of some of its specialties (SPEC.md, "Professional
    societies"). The body is Markdown, rendered and sanitised where it is shown (societies.markdown). Published at
    `published_at` (a moment in the future schedules it); withdrawn, it is shown nowhere but to its society."""

    TITLE_MAX = TITLE_MAX
    BODY_MAX = BODY_MAX

    society = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="announcements", verbose_name=_("society")
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(
        _("text"),
        max_length=BODY_MAX,
        help_text=_("Markdown: **bold**, *italic*, [a link](https://example.org), lists, quotes."),
    )
    specialties = models.ManyToManyField(Specialty, related_name="announcements", verbose_name=_("specialties"))
    published_at = models.DateTimeField(
        _("published"), help_text=_("A moment in the future schedules the announcement until then.")
    )
    pinned = models.BooleanField(_("pinned"), default=False, help_text=_("Pinned announcements are shown first."))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        ordering = ["-pinned", "-published_at", "-pk"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), BODY_MAX), name="announcement_body_bounded"
            ),
            models.CheckConstraint(condition=~Q(title=""), name="announcement_title_present"),
        ]
        indexes = [
            # Every reader's list: published and not withdrawn, pinned first, newest first. The specialty is
            # matched through the M2M table's index on specialty_id.
            models.Index(
                fields=["-pinned", "-published_at"],
                condition=Q(withdrawn_at__isnull=True),
                name="announcement_published_idx",
            ),
            # The weekly digest reads one week of publications.
            models.Index(fields=["published_at"], condition=Q(withdrawn_at__isnull=True), name="announcement_week_idx"),
            # The society's own list.
            models.Index(fields=["society", "-published_at"], name="announcement_society_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def is_scheduled(self) -> bool:
        return self.withdrawn_at is None and self.published_at > timezone.now()

    @property
    def is_published(self) -> bool:
        return self.withdrawn_at is None and self.published_at <= timezone.now()


class DigestSubscription(models.Model):
    """A doctor's opt-in to the weekly e-mail digest of the announcements of their specialties; unsubscribing
    deletes it."""

    doctor = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="announcement_digest", verbose_name=_("doctor")
    )
    created_at = models.DateTimeField(_("subscribed"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("digest subscription")
        verbose_name_plural = _("digest subscriptions")

    def __str__(self) -> str:
        return str(self.doctor)


class DigestSent(models.Model):
    """One weekly digest sent to one doctor: inserted in the transaction that sends it, so that a week's digest
    goes out at most once per doctor whatever runs the task, and a failed send leaves no row."""

    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor"))
    week_start = models.DateField(_("week of"), help_text=_("The Monday of the week the digest was sent in."))
    announcements = models.PositiveIntegerField(_("announcements"), default=0)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-week_start", "doctor"]
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [models.UniqueConstraint(fields=["doctor", "week_start"], name="digest_once_per_week")]

    def __str__(self) -> str:
        return f"{self.doctor} — {self.week_start:%d.%m.%Y}"
