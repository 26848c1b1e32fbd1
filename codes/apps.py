from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    name = "codes"
    verbose_name = _("ИКП codes and certificates")

    def ready(self) -> None:
        from . import signals  # noqa: F401
