from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = _("Codes and credits")

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers
