"""What professional societies publish for the doctors of their specialties: announcements, and the weekly digest
of them that doctors opt in to; and the needs surveys they run."""

import uuid
from datetime import date, datetime

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


# Needs surveys (SPEC.md, "Professional societies"). Who answered (SurveyParticipation) and what was answered
# (AnswerSet, Answer) are kept apart: an answer row has a random key, no time, no person, and no order that follows
# the order of insertion, so nothing lines the answers up with the list of those who responded.

SURVEY_TITLE_MAX = 200
SURVEY_INTRO_MAX = 5_000
QUESTION_TEXT_MAX = 1_000
OPTION_TEXT_MAX = 300
ANSWER_TEXT_MAX = 5_000
SCALE_MIN, SCALE_MAX = 1, 5


class Survey(models.Model):
    """A society's needs survey for some of its specialties, open between two dates. Built while a draft; opened
    (doctors are invited and may answer from `opens_on` to `closes_on`); closed by its staff or by its last day
    passing. Results are shown to its staff, and to providers of its specialties once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    TITLE_MAX = SURVEY_TITLE_MAX
    INTRO_MAX = SURVEY_INTRO_MAX

    society = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="surveys", verbose_name=_("society")
    )
    title = models.CharField(_("title"), max_length=SURVEY_TITLE_MAX)
    intro = models.TextField(_("introduction"), max_length=SURVEY_INTRO_MAX, blank=True)
    specialties = models.ManyToManyField(Specialty, related_name="surveys", verbose_name=_("specialties"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    results_published_at = models.DateTimeField(_("results published"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-opens_on", "-pk"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="survey_dates_in_order"),
            models.CheckConstraint(condition=~Q(title=""), name="survey_title_present"),
        ]
        indexes = [models.Index(fields=["status", "closes_on"], name="survey_open_idx")]

    def __str__(self) -> str:
        return self.title

    def state_on(self, day: date) -> str:
        """draft, scheduled (opened, its first day not come), open, or closed (by its staff or its last day)."""
        if self.status == self.Status.DRAFT:
            return "draft"
        if self.status == self.Status.CLOSED or day > self.closes_on:
            return "closed"
        return "open" if day >= self.opens_on else "scheduled"

    @property
    def state(self) -> str:
        return self.state_on(timezone.localdate())

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def results_published(self) -> bool:
        return self.results_published_at is not None


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SCALE = "scale", _("Scale from 1 to 5")
        TEXT = "text", _("Free text")
        CASE = "case", _("A difficult case from your practice")

    CHOICE_KINDS = (Kind.SINGLE, Kind.MULTIPLE)
    TEXT_KINDS = (Kind.TEXT, Kind.CASE)
    TEXT_MAX = QUESTION_TEXT_MAX

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.CharField(_("question"), max_length=QUESTION_TEXT_MAX)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text

    @property
    def has_options(self) -> bool:
        return self.kind in self.CHOICE_KINDS


class Option(models.Model):
    TEXT_MAX = OPTION_TEXT_MAX

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options", verbose_name=_("question"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("option"), max_length=OPTION_TEXT_MAX)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("option")
        verbose_name_plural = _("options")

    def __str__(self) -> str:
        return self.text


class SurveyParticipation(models.Model):
    """That a doctor answered a survey, and nothing of what: one per doctor and survey, enforced by the database.
    Written in the transaction that writes the answers, so there is never one without the other."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="participations", verbose_name=_("survey")
    )
    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor"))

    class Meta:
        verbose_name = _("survey participation")
        verbose_name_plural = _("survey participations")
        constraints = [models.UniqueConstraint(fields=["doctor", "survey"], name="survey_one_response_per_doctor")]

    def __str__(self) -> str:
        return f"{self.doctor} — {self.survey}"


class SurveyInvitation(models.Model):
    """That a doctor was e-mailed an invitation to a survey: inserted in the transaction that sends it, so a
    doctor is invited at most once per survey whatever runs the task."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("survey"))
    doctor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor"))

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [models.UniqueConstraint(fields=["doctor", "survey"], name="survey_invited_once")]

    def __str__(self) -> str:
        return f"{self.doctor} — {self.survey}"


class AnswerSet(models.Model):
    """One response, apart from who gave it: a random key, the survey, and the specialty it counts in (for the
    results by specialty). No person, no time, no sequence; no default order."""

    id = models.UUIDField(_("random key"), primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answer_sets", verbose_name=_("survey"))
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="+", null=True, verbose_name=_("specialty")
    )

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return str(self.id)


class Answer(models.Model):
    """One answer of a response: the chosen option (one row per option of a multiple choice), the number of a
    scale, or the text."""

    TEXT_MAX = ANSWER_TEXT_MAX

    id = models.UUIDField(_("random key"), primary_key=True, default=uuid.uuid4, editable=False)
    answer_set = models.ForeignKey(
        AnswerSet, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response")
    )
    # the response's survey, written again on each answer (surveys.survey_answer) so that the results count a
    # survey's answers from answer_survey_idx alone instead of finding them through its responses
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("survey")
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers", verbose_name=_("question"))
    option = models.ForeignKey(
        Option, on_delete=models.CASCADE, related_name="answers", null=True, blank=True, verbose_name=_("option")
    )
    number = models.PositiveSmallIntegerField(_("number"), null=True, blank=True)
    text = models.TextField(_("text"), max_length=ANSWER_TEXT_MAX, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gte=SCALE_MIN, number__lte=SCALE_MAX),
                name="answer_scale_bounded",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), ANSWER_TEXT_MAX), name="answer_text_bounded"
            ),
        ]
        # the results' counts per question, option and number, and the responses that gave them, read from the
        # index alone (survey_results.py)
        indexes = [
            models.Index(fields=["survey", "question", "option", "number", "answer_set"], name="answer_survey_idx")
        ]

    def __str__(self) -> str:
        return str(self.id)


class PreparedReport(models.Model):
    """The society report of one year, for all of the society's specialties (`specialty` empty) or for one: its
    figures as computed in the background (societies.report_prepared) and when. At national scale the figures
    take seconds to compute, so pages and the API read them from here and say as of when (SPEC: "Figures may be
    precomputed"); a preparation queued and not yet done is marked by `queued_at`."""

    society = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("society"))
    year = models.PositiveSmallIntegerField(_("year"))
    specialty = models.ForeignKey(
        Specialty, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("specialty")
    )
    figures = models.JSONField(_("figures"), null=True, blank=True, editable=False)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True, editable=False)
    queued_at = models.DateTimeField(_("preparation queued"), null=True, blank=True, editable=False)
    # the last preparation failed (its error is in the worker's log): readers are told, and it is tried again
    # once REQUEUE_AFTER_FAILURE has passed
    failed_at = models.DateTimeField(_("preparation failed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("prepared society report")
        verbose_name_plural = _("prepared society reports")
        constraints = [
            models.UniqueConstraint(
                fields=["society", "year", "specialty"],
                condition=Q(specialty__isnull=False),
                name="prepared_report_one_per_specialty",
            ),
            models.UniqueConstraint(
                fields=["society", "year"], condition=Q(specialty__isnull=True), name="prepared_report_one_for_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.society_id} {self.year} {self.specialty_id or 'all'}"
