"""Events in the API: the public catalogue of approved events and the provider's own events."""

from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from review import selectors
from review.api_common import (
    ActivitySerializer,
    CatalogActivitySerializer,
    CatalogFilterSerializer,
    CatalogViewSet,
    FormatIsAFilter,
    ProviderActivityFilterSerializer,
    ProviderActivityViewSet,
)

from .models import Event


class CatalogEventSerializer(CatalogActivitySerializer):
    format = serializers.ChoiceField(choices=Event.Format.choices, read_only=True)
    venue = serializers.CharField(read_only=True)
    link = serializers.URLField(read_only=True)
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
        description="Events overlapping [date_from, date_to] by their Moscow dates; `q` looks in title and programme.",
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


class EventSerializer(ActivitySerializer):
    class Meta(ActivitySerializer.Meta):
        model = Event
        fields = [
            *ActivitySerializer.Meta.fields[:4],
            "programme",
            "format",
            "venue",
            "link",
            "starts_at",
            "ends_at",
            *ActivitySerializer.Meta.fields[4:],
        ]


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
