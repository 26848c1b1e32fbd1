"""Events in the API: the public catalogue of approved events and the provider's own events."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from nmo_portal.calendar import make_local, register_zone_name, zone
from review.api_common import (
    ActivitySerializer,
    BoundedDateTimeField,
    CatalogActivitySerializer,
    CatalogFilterSerializer,
    CatalogViewSet,
    FormatIsAFilter,
    OptionalURLField,
    ProviderActivityFilterSerializer,
    ProviderActivityViewSet,
)

from . import selectors
from .models import Event

TIMEZONE_HELP = gettext_lazy(
    "The event's IANA time zone (the venue's; Europe/Moscow for online events). Its calendar days are the "
    "event's days; `starts_at` and `ends_at` sent without an offset are in it, and are returned in it."
)


class EventTimesInItsZone:
    """Returns `starts_at` and `ends_at` in the event's own zone, so that they read as the clock at the event."""

    def to_representation(self, instance: Any) -> Any:
        data: dict[str, Any] = super().to_representation(instance)  # type: ignore[misc]
        in_zone = serializers.DateTimeField(default_timezone=zone(instance.timezone))
        for name in ("starts_at", "ends_at"):
            if data.get(name) is not None:
                data[name] = in_zone.to_representation(getattr(instance, name))
        return data


class WallClockDateTimeField(BoundedDateTimeField):
    """Leaves a time sent without an offset naive; EventSerializer.validate reads it in the event's zone. From
    2000 to 2099, like every date the API takes."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value
        return super().enforce_timezone(value)


class CatalogEventSerializer(EventTimesInItsZone, CatalogActivitySerializer):
    format = serializers.ChoiceField(choices=Event.Format.choices, read_only=True)
    venue = serializers.CharField(read_only=True)
    link = OptionalURLField(read_only=True, help_text=gettext_lazy("Where to join online; empty for in-person."))
    timezone = serializers.CharField(read_only=True, help_text=TIMEZONE_HELP)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)


class CatalogEventDetailSerializer(CatalogEventSerializer):
    programme = serializers.CharField(read_only=True)


class CatalogEventFilterSerializer(CatalogFilterSerializer):
    format = serializers.ChoiceField(
        choices=Event.Format.choices, required=False, help_text=gettext_lazy("in_person, online or mixed.")
    )


@extend_schema_view(
    list=extend_schema(
        summary="Approved events",
        description="Events overlapping [date_from, date_to] by their own calendar days (in each event's time "
        "zone); `q` looks in title and programme, or finds the event by its exact public number.",
        parameters=[CatalogEventFilterSerializer],
    ),
    retrieve=extend_schema(summary="One approved event"),
)
class CatalogEventViewSet(CatalogViewSet):
    serializer_class = CatalogEventSerializer
    detail_serializer_class = CatalogEventDetailSerializer
    filter_serializer_class = CatalogEventFilterSerializer
    content_negotiation_class = FormatIsAFilter

    def catalog(self, filters: dict[str, Any]) -> QuerySet[Any]:
        return selectors.catalog_events(filters)


class EventSerializer(EventTimesInItsZone, ActivitySerializer):
    timezone = serializers.CharField(
        max_length=64, required=False, validators=Event._meta.get_field("timezone").validators, help_text=TIMEZONE_HELP
    )
    link = OptionalURLField(
        max_length=200, required=False, allow_blank=True, help_text=Event._meta.get_field("link").help_text
    )
    starts_at = WallClockDateTimeField()
    ends_at = WallClockDateTimeField()

    class Meta(ActivitySerializer.Meta):
        model = Event
        fields = [
            *ActivitySerializer.Meta.fields[:4],
            "programme",
            "format",
            "venue",
            "link",
            "timezone",
            "starts_at",
            "ends_at",
            *ActivitySerializer.Meta.fields[4:],
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        current = self.instance.timezone if isinstance(self.instance, Event) else register_zone_name()
        in_zone = attrs.get("timezone") or current
        for name in ("starts_at", "ends_at"):
            if isinstance(attrs.get(name), datetime):
                attrs[name] = make_local(attrs[name], in_zone)
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="The organization's events, every status", parameters=[ProviderActivityFilterSerializer]
    ),
    create=extend_schema(summary="Register an event as a draft"),
    update=extend_schema(summary="Edit a draft (or an event returned for changes, or withdrawn)"),
    partial_update=extend_schema(summary="Edit some fields of a draft"),
)
class EventViewSet(ProviderActivityViewSet):
    model = Event
    serializer_class = EventSerializer


router = SimpleRouter()
router.register("catalog/events", CatalogEventViewSet, basename="catalog-event")
router.register("events", EventViewSet, basename="event")

urlpatterns = [path("", include(router.urls))]
