from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinistryMockConfig(AppConfig):
    name = "ministry_mock"
    verbose_name = _("Ministry portal mock")

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the deploy check
