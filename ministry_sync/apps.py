from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MinistrySyncConfig(AppConfig):
    name = "ministry_sync"
    verbose_name = _("Ministry sync")
