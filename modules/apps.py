from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModulesConfig(AppConfig):
    name = "modules"
    verbose_name = _("E-learning modules")

    def ready(self) -> None:
        # review must not import modules (it is the lower layer), so modules tells review what it needs
        from review import kinds

        from . import signals  # noqa: F401
        from .api import CatalogModuleSerializer
        from .models import Module

        kinds.register(kinds.ActivityKind(model=Module, content_serializer=CatalogModuleSerializer))
