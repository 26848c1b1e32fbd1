from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from review.models import Activity


class Module(Activity):
    """An electronic learning module (электронный образовательный модуль)."""

    kind: ClassVar[str] = "module"

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
        indexes = [models.Index(fields=["status", "available_from"], name="module_catalog_idx")]

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.available_from and self.available_until and self.available_until < self.available_from:
            errors["available_until"] = _("The module must stay available until a date after it opens.")
        if self.hours is not None and self.credits_requested is not None and self.credits_requested > self.hours:
            errors["credits_requested"] = _("Credits requested cannot exceed the academic hours.")
        if errors:
            raise ValidationError(errors)
