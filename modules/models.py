from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from review.models import Activity, SearchIndex, Transition, search_vector

SEARCH_FIELDS = ("title", "annotation")


class Module(Activity):
    """An electronic learning module (электронный образовательный модуль)."""

    kind: ClassVar[str] = "module"
    search_fields: ClassVar[tuple[str, ...]] = SEARCH_FIELDS

    annotation = models.TextField(_("annotation"))
    link = models.URLField(_("link"), help_text=_("Where doctors take the module"))
    available_from = models.DateField(_("available from"))
    available_until = models.DateField(_("available until"))

    class Meta(Activity.Meta):
        ordering = ["available_from", "id"]
        verbose_name = _("e-learning module")
        verbose_name_plural = _("e-learning modules")
        constraints = [
            *Activity.Meta.constraints,
            models.CheckConstraint(condition=Q(available_until__gte=F("available_from")), name="module_window_ordered"),
        ]
        indexes = [
            *Activity.Meta.indexes,
            models.Index(fields=["status", "available_from"], name="module_catalog_idx"),
            SearchIndex(search_vector(*SEARCH_FIELDS), name="module_search_idx"),
        ]

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.available_from and self.available_until and self.available_until < self.available_from:
            errors["available_until"] = _("The module must stay available until a date after it opens.")
        if self.hours is not None and self.credits_requested is not None and self.credits_requested > self.hours:
            errors["credits_requested"] = _("Credits requested cannot exceed the academic hours.")
        if errors:
            raise ValidationError(errors)


class ModuleTransition(Transition):
    """One step of a module's review (see review.models.Transition)."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("module"))

    @property
    def activity(self) -> Module:
        return self.module


class ModuleCompletion(models.Model):
    """A provider's report that someone completed a module; credited at once or when the doctor signs up.

    `doctor`, `credited_at` and `matched_by` describe the credit that stands now: a credit reversed because
    the СНИЛС that brought it left the account clears them, and the completion waits for its owner again.
    """

    class MatchedBy(models.TextChoices):
        SNILS = "snils", _("confirmed СНИЛС")
        EMAIL = "email", _("confirmed e-mail")

    module = models.ForeignKey("modules.Module", on_delete=models.PROTECT, related_name="completions")
    external_id = models.CharField(_("provider's completion id"), max_length=100)
    snils = models.CharField(_("СНИЛС"), max_length=11, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    completed_at = models.DateTimeField(_("completed"))
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="module_completions",
        verbose_name=_("doctor"),
    )
    credited_at = models.DateTimeField(_("credited"), null=True, blank=True)
    matched_by = models.CharField(_("matched by"), max_length=8, choices=MatchedBy.choices, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("reported by")
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("module completion")
        verbose_name_plural = _("module completions")
        constraints = [
            models.UniqueConstraint(fields=["module", "external_id"], name="completion_once_per_external_id"),
            models.CheckConstraint(condition=~Q(snils="") | ~Q(email=""), name="completion_identifies_doctor"),
            models.CheckConstraint(
                condition=Q(doctor__isnull=True, credited_at__isnull=True, matched_by="")
                | Q(doctor__isnull=False, credited_at__isnull=False, matched_by__in=["snils", "email"]),
                name="completion_credit_is_whole",
            ),
        ]
        indexes = [
            models.Index(fields=["snils"], name="completion_snils_idx", condition=Q(doctor__isnull=True)),
            # the society report counts a year's completions of its modules from this index alone
            models.Index(fields=["module", "completed_at"], name="completion_module_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.module} · {self.external_id}"
