"""What the Ministry portal (edu.rosminzdrav.ru) knows: specialists with their cycles, the education records
it has received from us, and the faults it has been told to simulate.

These tables stand for another organization's system: nothing in the portal's own apps reads them.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SNILS_PATTERN = r"^[0-9]{11}$"
SPECIALTY_CODE_PATTERN = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"


class Specialist(models.Model):
    """A person registered at the Ministry portal: a СНИЛС and the login they sign in with there."""

    snils = models.CharField(_("СНИЛС"), max_length=11, unique=True)
    login = models.CharField(_("login"), max_length=150)
    full_name = models.CharField(_("full name"), max_length=300)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("Ministry specialist")
        verbose_name_plural = _("Ministry specialists")
        constraints = [
            models.CheckConstraint(condition=Q(snils__regex=SNILS_PATTERN), name="ministry_specialist_snils_digits"),
            # The Ministry does not tell logins apart by letter case, so neither may two specialists.
            models.UniqueConstraint(Lower("login"), name="ministry_specialist_login_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.snils})"


class SpecialistCycle(models.Model):
    """A five-year accreditation cycle in one specialty; the portal stores its id to file records under it."""

    specialist = models.ForeignKey(
        Specialist, on_delete=models.CASCADE, related_name="cycles", verbose_name=_("specialist")
    )
    specialty_code = models.CharField(_("specialty code"), max_length=8)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        ordering = ["specialist_id", "starts_on", "id"]
        verbose_name = _("Ministry cycle")
        verbose_name_plural = _("Ministry cycles")
        constraints = [
            models.UniqueConstraint(fields=["specialist", "specialty_code"], name="ministry_cycle_one_per_specialty"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="ministry_cycle_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(specialty_code__regex=SPECIALTY_CODE_PATTERN), name="ministry_cycle_specialty_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.specialty_code}: {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"


class RecordKind(models.TextChoices):
    """The Ministry's split of a cycle's progress in ЗЕТ, named as its portal names them."""

    IOM = "iomZet", _("Interactive educational modules")
    TRAINING_PROGRAMME = "trainingProgrammeZet", _("Programmes of educational organizations")
    EDUCATION_ELEMENT = "educationElementZet", _("Educational events")
    OTHER = "otherZet", _("Other")


class ReceivedRecord(models.Model):
    """One education record as the Ministry received it. The idempotency key makes a re-sent record a no-op."""

    specialist = models.ForeignKey(
        Specialist, on_delete=models.CASCADE, related_name="records", verbose_name=_("specialist")
    )
    cycle = models.ForeignKey(
        SpecialistCycle,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("cycle"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=RecordKind.choices)
    # Negative for a reversal of an earlier record (a revoked code).
    zet = models.IntegerField(_("ЗЕТ"))
    title = models.CharField(_("title"), max_length=500)
    earned_on = models.DateField(_("earned on"))
    source_ref = models.CharField(_("portal reference"), max_length=200, blank=True)
    payload = models.JSONField(_("request body"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received record")
        verbose_name_plural = _("received records")
        constraints = [
            # The guarantee behind "a record arrives once": concurrent duplicates lose at the database.
            models.UniqueConstraint(fields=["idempotency_key"], name="ministry_record_idempotency_key_unique"),
            models.CheckConstraint(condition=Q(kind__in=RecordKind.values), name="ministry_record_kind_known"),
        ]
        indexes = [models.Index(fields=["specialist", "kind"], name="ministry_record_spec_kind")]

    def __str__(self) -> str:
        return f"{self.title} ({self.zet:+d} {self.kind})"


class Faults(models.Model):
    """The one row (pk=1) telling the mock how to misbehave. It lives in the database, not in memory, so that
    a test or an operator can change it while the mock runs in another process."""

    SINGLETON_PK = 1

    latency_ms = models.PositiveIntegerField(_("latency, ms"), default=0, validators=[MaxValueValidator(60_000)])
    failure_rate = models.FloatField(
        _("share of failed requests"),
        default=0.0,
        help_text=_("From 0 to 1."),
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    down = models.BooleanField(_("down"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("simulated faults")
        verbose_name_plural = _("simulated faults")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="ministry_faults_singleton"),
            models.CheckConstraint(
                condition=Q(failure_rate__gte=0) & Q(failure_rate__lte=1), name="ministry_faults_rate_share"
            ),
            models.CheckConstraint(condition=Q(latency_ms__lte=60_000), name="ministry_faults_latency_at_most_minute"),
        ]

    def __str__(self) -> str:
        return f"down={self.down}, latency={self.latency_ms} ms, failure_rate={self.failure_rate:g}"

    @classmethod
    def current(cls) -> "Faults":
        # get_or_create: a flushed database (transactional tests) must not turn every request into an error.
        faults, _created = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return faults
