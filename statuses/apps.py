from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusesConfig(AppConfig):
    name = "statuses"
    verbose_name = _("Status programmes")
