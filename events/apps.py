from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        # review must not import events (it is the lower layer), so events tells review what it needs
        from review import kinds

        from .api import CatalogEventDetailSerializer
        from .models import Event
        from .services import event_submission_problems

        kinds.register(
            kinds.ActivityKind(
                model=Event,
                content_serializer=CatalogEventDetailSerializer,
                submission_problems=event_submission_problems,
            )
        )
