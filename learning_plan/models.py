"""The doctor's «План обучения»: cycle rules (data, editable in admin), cycles, programmes of educational
organizations, and planned activities."""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from nmo_portal.i18n import localized


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
