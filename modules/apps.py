from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModulesConfig(AppConfig):
    name = "modules"
    verbose_name = _("E-learning modules")

    def ready(self) -> None:
        # The layers below modules must not import it: it tells review, and the ledger, what they need.
        from credits.models import CreditEntry
        from credits.selectors import register_source
        from review import kinds

        from . import signals  # noqa: F401
        from .api import CatalogModuleSerializer
        from .models import Module, ModuleCompletion

        kinds.register(kinds.ActivityKind(model=Module, content_serializer=CatalogModuleSerializer))
        # the ledger names the completion that earned a row by its id; this is how it loads them
        register_source(CreditEntry.Source.MODULE_COMPLETION, ModuleCompletion.objects.in_bulk)
