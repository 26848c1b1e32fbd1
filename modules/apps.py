from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModulesConfig(AppConfig):
    name = "modules"
    verbose_name = _("E-learning modules")

    def ready(self) -> None:
        from . import signals  # noqa: F401
