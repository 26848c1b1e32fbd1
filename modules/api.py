"""E-learning modules in the API: the public catalogue of approved modules and the provider's own modules."""

from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.requests import request_user
from nmo_portal.calendar import register_zone
from review.api_common import (
    ActivitySerializer,
    BoundedDateField,
    BoundedDateTimeField,
    CatalogActivitySerializer,
    CatalogFilterSerializer,
    CatalogViewSet,
    ProviderActivityFilterSerializer,
    ProviderActivityViewSet,
)

from . import selectors
from .models import Module, ModuleCompletion
from .services import completion_report
from .views import module_completions


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
    available_from = BoundedDateField()
    available_until = BoundedDateField()

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


class CompletionReportSerializer(serializers.Serializer[dict[str, Any]]):
    """A provider's report that a doctor completed the module. The doctor is named by СНИЛС or e-mail."""

    external_id = serializers.CharField(
        max_length=100,
        allow_blank=True,
        help_text=_("Your own id of this completion; the same id again changes nothing."),
    )
    snils = serializers.CharField(
        max_length=20, default="", allow_blank=True, help_text=_("The doctor's СНИЛС, with or without separators.")
    )
    email = serializers.EmailField(default="", allow_blank=True, help_text=_("The doctor's e-mail."))
    completed_at = BoundedDateTimeField(
        default_timezone=register_zone(),
        help_text=_(
            "When the module was completed, ISO 8601; Moscow time when no offset is given. From 2000, and not in "
            "the future."
        ),
    )


class CompletionSerializer(serializers.ModelSerializer[ModuleCompletion]):
    """A reported completion as its provider sees it: what it reported. Whether the report named a registered
    doctor, or was credited, is not shown: the answer is the same for a known and an unknown doctor."""

    reported_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ModuleCompletion
        fields = ["id", "external_id", "snils", "email", "completed_at", "reported_at"]
        read_only_fields = fields


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

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        if self.action == "completions":
            return queryset.prefetch_related(None)  # the completions need the module, not its timeline
        return queryset

    @extend_schema(
        methods=["GET"],
        summary="The module's completion reports",
        description="Newest first, paginated.",
        responses=CompletionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Report a completion",
        description="Credits the doctor named by a confirmed `snils` or a confirmed `email` with the module's "
        "credits once, however many reports name them; a doctor not registered yet (or whose СНИЛС the Ministry "
        "link has not confirmed yet) is credited later, and members of the module's organization are never "
        "credited by e-mail. The answer does not say whether a doctor was found. 201 with the completion; "
        "200 with the same body when this `external_id` was reported before (nothing changes). 400 "
        "`module_not_approved`, `external_id_required`, `doctor_required`, `snils_invalid`, "
        "`completed_in_future`; 403 for a person who is not provider staff; 404 for a module of another "
        "organization.",
        request=CompletionReportSerializer,
        responses={201: CompletionSerializer, 200: CompletionSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def completions(self, request: Request, pk: str | None = None) -> Response:
        module = self.get_object()
        if request.method == "POST":
            body = CompletionReportSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            completion, created = completion_report(module=module, actor=request_user(request), **body.validated_data)
            shown = module_completions(module).get(pk=completion.pk)
            return Response(
                CompletionSerializer(shown).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
            )
        page = self.paginate_queryset(module_completions(module))
        if page is None:
            return Response(CompletionSerializer(module_completions(module), many=True).data)
        return self.get_paginated_response(CompletionSerializer(page, many=True).data)


router = SimpleRouter()
router.register("catalog/modules", CatalogModuleViewSet, basename="catalog-module")
router.register("modules", ModuleViewSet, basename="module")

urlpatterns = [path("", include(router.urls))]
