"""E-learning modules in the API: the public catalogue of approved modules and the provider's own modules."""

from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from review import selectors
from review.api_common import (
    ActivitySerializer,
    CatalogActivitySerializer,
    CatalogFilterSerializer,
    CatalogViewSet,
    ProviderActivityFilterSerializer,
    ProviderActivityViewSet,
)

from .models import Module


class CatalogModuleSerializer(CatalogActivitySerializer):
    annotation = serializers.CharField(read_only=True)
    link = serializers.URLField(read_only=True)
    available_from = serializers.DateField(read_only=True)
    available_until = serializers.DateField(read_only=True)


@extend_schema_view(
    list=extend_schema(
        summary="Approved e-learning modules",
        description="Modules available at some time in [date_from, date_to]; `q` looks in title and annotation.",
        parameters=[CatalogFilterSerializer],
    ),
    retrieve=extend_schema(summary="One approved e-learning module"),
)
class CatalogModuleViewSet(CatalogViewSet):
    serializer_class = CatalogModuleSerializer
    detail_serializer_class = CatalogModuleSerializer

    def catalog(self, filters: dict[str, Any]) -> QuerySet[Any]:
        return selectors.catalog_modules(filters)


class ModuleSerializer(ActivitySerializer):
    class Meta(ActivitySerializer.Meta):
        model = Module
        fields = [
            *ActivitySerializer.Meta.fields[:4],
            "annotation",
            "link",
            "available_from",
            "available_until",
            *ActivitySerializer.Meta.fields[4:],
        ]


@extend_schema_view(
    list=extend_schema(
        summary="The organization's e-learning modules, every status", parameters=[ProviderActivityFilterSerializer]
    ),
    create=extend_schema(summary="Register a module as a draft"),
    update=extend_schema(summary="Edit a draft (or a module returned for changes, or withdrawn)"),
    partial_update=extend_schema(summary="Edit some fields of a draft"),
)
class ModuleViewSet(ProviderActivityViewSet):
    model = Module
    serializer_class = ModuleSerializer


router = SimpleRouter()
router.register("catalog/modules", CatalogModuleViewSet, basename="catalog-module")
router.register("modules", ModuleViewSet, basename="module")

urlpatterns = [path("", include(router.urls))]
