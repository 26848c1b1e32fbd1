"""The doctor's «План обучения»: cycle rules (data, editable in admin), cycles, programmes of educational
organizations, and planned activities."""

from datetime import date

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from nmo_portal.i18n import localized


def private_storage() -> Storage:
    """Where the portfolio's scans and exports live: STORAGES["private"], never served under MEDIA_URL."""
    return storages["private"]


class CycleRule(models.Model):
    """What a five-year cycle needs, as data: the default 144-hour model or the individual plan."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    slug = models.SlugField(_("key"), unique=True)
    years = models.PositiveSmallIntegerField(_("years"), default=5)
    total_hours = models.PositiveIntegerField(_("hours in all"))
    yearly_recommended = models.PositiveIntegerField(_("recommended per year"), null=True, blank=True)
    is_default = models.BooleanField(_("default for new cycles"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("cycle rule")
        verbose_name_plural = _("cycle rules")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_cycle_rule")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class RuleComponent(models.Model):
    """One block of a rule: which records count into it and how many hours it needs."""

    class Counts(models.TextChoices):
        PROGRAMME = "programme", _("Programmes of educational organizations")
        NMO = "nmo", _("НМО activities (events and modules)")
        EVENTS = "events", _("Educational events")
        MODULES = "modules", _("E-learning modules")

    rule = models.ForeignKey(CycleRule, on_delete=models.CASCADE, related_name="components", verbose_name=_("rule"))
    counts = models.CharField(_("counts"), max_length=16, choices=Counts.choices)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    required_hours = models.PositiveIntegerField(_("hours required"))
    is_minimum = models.BooleanField(
        _("a minimum inside another block"),
        default=False,
        help_text=_("E.g. at least 16 of the 36 НМО hours from events."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rule", "order", "id"]
        verbose_name = _("rule component")
        verbose_name_plural = _("rule components")
        constraints = [models.UniqueConstraint(fields=["rule", "counts"], name="rule_component_unique")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.display_name} {self.required_hours}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class Cycle(models.Model):
    """A doctor's five-year cycle in one specialty."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cycles", verbose_name=_("doctor")
    )
    specialty = models.ForeignKey(
        "accounts.Specialty", on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty")
    )
    rule = models.ForeignKey(CycleRule, on_delete=models.PROTECT, related_name="cycles", verbose_name=_("rule"))
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    document = models.ForeignKey(
        "AccreditationDocument",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cycles",
        verbose_name=_("document it renews"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["doctor", "specialty__code", "starts_on"]
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "specialty", "starts_on"], name="cycle_unique_start"),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="cycle_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.specialty.code} {self.starts_on:%d.%m.%Y}–{self.ends_on:%d.%m.%Y}"

    def holds(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class ProgrammeEntry(models.Model):
    """A programme of an educational organization (повышение квалификации) the doctor entered with its document."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="programme_entries", verbose_name=_("doctor")
    )
    specialty = models.ForeignKey(
        "accounts.Specialty", on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty")
    )
    name = models.CharField(_("programme"), max_length=300)
    organization = models.CharField(_("educational organization"), max_length=300)
    hours = models.PositiveIntegerField(_("hours"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    document_number = models.CharField(_("document number"), max_length=100)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["-ends_on"]
        verbose_name = _("programme of an educational organization")
        verbose_name_plural = _("programmes of educational organizations")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="programme_hours_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="programme_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.hours})"


class PlannedActivity(models.Model):
    """An approved activity the doctor added to the plan from the catalogue."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="planned", verbose_name=_("doctor")
    )
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    module = models.ForeignKey("modules.Module", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("planned activity")
        verbose_name_plural = _("planned activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False, module__isnull=True) | Q(event__isnull=True, module__isnull=False),
                name="planned_one_activity",
            ),
            models.UniqueConstraint(fields=["doctor", "event"], name="planned_event_once"),
            models.UniqueConstraint(fields=["doctor", "module"], name="planned_module_once"),
        ]

    def __str__(self) -> str:
        return str(self.event or self.module)


# The periodic accreditation portfolio -------------------------------------------------------------------------


class AccreditationDocument(models.Model):
    """The document a cycle renews in one specialty: an accreditation or a specialist certificate.

    It expires five years after its date of issue (a 29 February issue expires on 28 February, as the Civil
    Code's article 192 counts a term in years that ends in a month without that day). The portfolio's period is
    those five years, and the filing window opens ACCREDITATION_WINDOW_MONTHS before expiry."""

    class Kind(models.TextChoices):
        ACCREDITATION = "accreditation", _("Accreditation of a specialist")
        CERTIFICATE = "certificate", _("Specialist certificate")

    VALID_YEARS = 5
    # hours_short_next_on once the hours-short reminder is sent: a day that never comes
    HOURS_REMINDED = date.max

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="accreditation_documents",
        verbose_name=_("doctor"),
    )
    specialty = models.ForeignKey(
        "accounts.Specialty", on_delete=models.PROTECT, related_name="+", verbose_name=_("specialty")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ACCREDITATION)
    number = models.CharField(_("number"), max_length=60)
    issued_on = models.DateField(_("date of issue"))
    expires_on = models.DateField(_("expires"), editable=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # Where the daily reminders stand with this document (learning_plan.reminders), so that a day's run reads only
    # the documents a reminder may be due for (the partial indexes below), not every document of an open window:
    # the window's and the 90-day reminders sent (set with their PortfolioReminder rows), and the day its hours
    # are weighed again for the hours-short reminder: empty until they are first weighed (the document's last
    # HOURS_SHORT_DAYS, found by its expiry), a later day after a weighing found no reminder due, HOURS_REMINDED
    # once it is sent.
    window_reminded = models.BooleanField(_("window reminder sent"), default=False, db_default=False, editable=False)
    days_90_reminded = models.BooleanField(_("90-day reminder sent"), default=False, db_default=False, editable=False)
    hours_short_next_on = models.DateField(_("hours weighed again on"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["doctor", "specialty__code", "-issued_on"]
        verbose_name = _("accreditation document")
        verbose_name_plural = _("accreditation documents")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "specialty", "issued_on"], name="accreditation_unique_issue"),
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("issued_on")), name="accreditation_expires_after_issue"
            ),
        ]
        # The documents each reminder may still be due for, by expiry (learning_plan.reminders, its only reader by
        # expiry: a plain index of expiry, the planner's other choice, walks the documents already reminded) ...
        indexes = [
            models.Index(fields=["expires_on"], condition=Q(window_reminded=False), name="accreditation_window_idx"),
            models.Index(fields=["expires_on"], condition=Q(days_90_reminded=False), name="accreditation_days_90_idx"),
            models.Index(
                fields=["expires_on"], condition=Q(hours_short_next_on=None), name="accreditation_hours_new_idx"
            ),
            # ... and those whose hours are weighed again, by that day
            models.Index(
                fields=["hours_short_next_on", "id"],
                condition=Q(hours_short_next_on__isnull=False),
                name="accreditation_hours_again_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number} ({self.issued_on:%d.%m.%Y})"


class AccreditationAlternative(models.Model):
    """One way to meet what periodic accreditation needs; any alternative suffices. Data, editable in admin and
    separate from the cycle rules: readiness is judged against these whatever rule the doctor's cycle uses."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in force"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("accreditation alternative")
        verbose_name_plural = _("accreditation alternatives")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class AlternativeComponent(models.Model):
    """At least so many hours of one kind of education, within one alternative."""

    alternative = models.ForeignKey(
        AccreditationAlternative, on_delete=models.CASCADE, related_name="components", verbose_name=_("alternative")
    )
    counts = models.CharField(_("counts"), max_length=16, choices=RuleComponent.Counts.choices)
    required_hours = models.PositiveIntegerField(_("hours at least"))

    class Meta:
        ordering = ["alternative", "id"]
        verbose_name = _("component of an alternative")
        verbose_name_plural = _("components of an alternative")
        constraints = [models.UniqueConstraint(fields=["alternative", "counts"], name="alternative_component_unique")]

    def __str__(self) -> str:
        return f"{self.get_counts_display()} ≥ {self.required_hours}"


class Portfolio(models.Model):
    """What the doctor files to renew one document: the report, the employer's agreement, the scans, the filing.

    One per document; the education it shows is read from the register, never copied here."""

    class Agreement(models.TextChoices):
        NOT_RECORDED = "not_recorded", _("Not recorded yet")
        REQUESTED = "requested", _("Requested from the employer")
        AGREED = "agreed", _("Agreed")
        REFUSED = "refused", _("Refused")
        NOT_NEEDED = "not_needed", _("Not needed")

    class NotNeeded(models.TextChoices):
        NOT_EMPLOYED = "not_employed", _("I am not employed")
        HEAD = "head", _("I head the organization")
        SELF_EMPLOYED = "self_employed", _("I am self-employed")

    class Filing(models.TextChoices):
        PREPARING = "preparing", _("Being prepared")
        FILED = "filed", _("Filed")
        ACCREDITED = "accredited", _("Accredited")
        REFUSED = "refused", _("Refused")

    document = models.OneToOneField(
        AccreditationDocument, on_delete=models.CASCADE, related_name="portfolio", verbose_name=_("document")
    )
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios", verbose_name=_("doctor")
    )
    agreement = models.CharField(
        _("employer's agreement"), max_length=16, choices=Agreement.choices, default=Agreement.NOT_RECORDED
    )
    agreement_not_needed = models.CharField(
        _("why no agreement is needed"), max_length=16, choices=NotNeeded.choices, blank=True
    )
    agreement_reason = models.TextField(_("reason for the refusal"), max_length=2000, blank=True)
    agreement_on = models.DateField(_("agreement recorded on"), null=True, blank=True)
    filing = models.CharField(_("filing"), max_length=16, choices=Filing.choices, default=Filing.PREPARING)
    filed_on = models.DateField(_("filed on"), null=True, blank=True)
    outcome_on = models.DateField(_("outcome on"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome note"), max_length=2000, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("accreditation portfolio")
        verbose_name_plural = _("accreditation portfolios")
        constraints = [
            models.CheckConstraint(
                condition=~Q(agreement="not_needed") | ~Q(agreement_not_needed=""),
                name="portfolio_not_needed_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(filing="preparing") | Q(filed_on__isnull=False), name="portfolio_filed_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} — {self.document}"


class ReportSection(models.Model):
    """One section of the report on professional activity, in the sections the regulation names. A section is
    saved as a draft whenever the doctor saves it; the report is written once every section has text."""

    class Section(models.TextChoices):
        ORGANIZATION = "organization", _("The organization")
        UNIT = "unit", _("The unit")
        EXPERIENCE = "experience", _("Experience in the specialty")
        DUTIES = "duties", _("Duties")
        WORK = "work", _("Work done, with figures")
        DEVELOPMENT = "development", _("Professional development and mentoring")
        PROPOSALS = "proposals", _("Proposals for improving one's work")

    MAX_CHARS = 20_000

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="report_sections", verbose_name=_("portfolio")
    )
    section = models.CharField(_("section"), max_length=16, choices=Section.choices)
    text = models.TextField(_("text"), max_length=MAX_CHARS, blank=True)
    updated_at = models.DateTimeField(_("saved"), auto_now=True)

    class Meta:
        verbose_name = _("report section")
        verbose_name_plural = _("report sections")
        constraints = [models.UniqueConstraint(fields=["portfolio", "section"], name="report_section_unique")]

    def __str__(self) -> str:
        return self.get_section_display()


class PortfolioScan(models.Model):
    """A scan the doctor attaches (a diploma, pages of the work record book, a programme's certificate): a PDF or
    an image, kept in the private storage and read back only for its owner."""

    class Kind(models.TextChoices):
        DIPLOMA = "diploma", _("Diploma")
        WORK_BOOK = "work_book", _("Work record book")
        PROGRAMME = "programme", _("Certificate of a programme")
        OTHER = "other", _("Other document")

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="scans", verbose_name=_("portfolio")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), storage=private_storage, upload_to="portfolio-scans/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["portfolio", "kind", "uploaded_at"]
        verbose_name = _("portfolio scan")
        verbose_name_plural = _("portfolio scans")

    def __str__(self) -> str:
        return self.title


class PortfolioExport(models.Model):
    """One build of the portfolio's ZIP: built in Celery, with its progress, kept in the private storage."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, related_name="exports", verbose_name=_("portfolio")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress, %"), default=0)
    file = models.FileField(_("file"), storage=private_storage, upload_to="portfolio-exports/", blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portfolio export")
        verbose_name_plural = _("portfolio exports")

    def __str__(self) -> str:
        return f"{self.portfolio} {self.created_at:%d.%m.%Y %H:%M}"


class FilingStage(models.Model):
    """A stage after filing, with how long it takes, as data: so many working days by the Russian production
    calendar, or until a weekday at the end of a month (the central commission sits on the last Tuesday)."""

    class Rule(models.TextChoices):
        WORKING_DAYS = "working_days", _("So many working days")
        LAST_WEEKDAY = "last_weekday", _("The last given weekday of a month, after the previous stage")

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    rule = models.CharField(_("duration"), max_length=16, choices=Rule.choices)
    days = models.PositiveSmallIntegerField(_("working days"), default=0)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), default=1, help_text=_("0 Monday … 6 Sunday; for the last weekday of a month.")
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("filing stage")
        verbose_name_plural = _("filing stages")
        constraints = [models.CheckConstraint(condition=Q(weekday__lte=6), name="filing_stage_weekday")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_en)


class PortfolioReminder(models.Model):
    """A reminder e-mail sent: at most one per doctor, kind and window (the document the window belongs to)."""

    class Kind(models.TextChoices):
        WINDOW_OPEN = "window_open", _("The filing window has opened")
        DAYS_90 = "days_90", _("90 days left")
        HOURS_SHORT = "hours_short", _("Hours short while time runs out")

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("doctor")
    )
    document = models.ForeignKey(
        AccreditationDocument, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("document")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("portfolio reminder")
        verbose_name_plural = _("portfolio reminders")
        constraints = [models.UniqueConstraint(fields=["doctor", "document", "kind"], name="portfolio_reminder_once")]

    def __str__(self) -> str:
        return f"{self.doctor}: {self.get_kind_display()}"
