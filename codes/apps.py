from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodesConfig(AppConfig):
    name = "codes"
    verbose_name = _("ИКП codes and certificates")

    def ready(self) -> None:
        from credits.models import CreditEntry
        from credits.selectors import register_source

        from . import signals  # noqa: F401
        from .models import IcpCode

        # the ledger names the IcpCode that earned a row by its id; this is how it loads them
        register_source(CreditEntry.Source.CODE, IcpCode.objects.in_bulk)
