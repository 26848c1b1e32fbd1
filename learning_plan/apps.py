from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningPlanConfig(AppConfig):
    name = "learning_plan"
    verbose_name = _("Learning plan")

    def ready(self) -> None:
        from . import signals  # noqa: F401
