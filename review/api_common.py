"""What the event and module APIs share: the public catalogue and the provider's own activities.

Each app's `api.py` subclasses the viewsets below with its model, serializers and catalogue selector, so the
rules live once, in `review.services`, and the reads once, in `review.selectors` (the browser uses the same).
"""

from datetime import date, datetime
from typing import Any, ClassVar

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization, Specialty
from accounts.requests import IsProviderStaff, my_organizations, request_api_key, request_user
from accounts.selectors import active_specialties
from nmo_portal.calendar import EARLIEST_YEAR, LATEST_YEAR, within_register_years
from nmo_portal.ids import MAX_ID

from .models import Activity, Status, Transition, transitions_of
from .services import activity_save, activity_submit, activity_withdraw

# Dates the API takes are within the register's years (nmo_portal.calendar): anything else is a 400.
YEAR_PATTERN = r"^20[0-9]{2}-"  # the OpenAPI schema's way of saying "from 2000 to 2099" for a string
_OUT_OF_RANGE = gettext_lazy("Give a date from %(earliest)s to %(latest)s.")


def _require_sane_year(field: serializers.Field[Any, Any, Any, Any], value: date) -> None:
    if not within_register_years(value):
        raise ValidationError(
            _OUT_OF_RANGE % {"earliest": date(EARLIEST_YEAR, 1, 1).isoformat(), "latest": f"{LATEST_YEAR}-12-31"},
            code="out_of_range",
        )


@extend_schema_field({"type": "string", "format": "date", "pattern": YEAR_PATTERN})
class BoundedDateField(serializers.DateField):
    """A date from 2000-01-01 to 2099-12-31."""

    def to_internal_value(self, value: Any) -> date:
        result = super().to_internal_value(value)
        _require_sane_year(self, result)
        return result


@extend_schema_field({"type": "string", "format": "date-time", "pattern": YEAR_PATTERN})
class BoundedDateTimeField(serializers.DateTimeField):
    """A moment from 2000 to 2099. The year is checked as written, before any conversion between zones (which
    would overflow at the ends of Python's calendar)."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # the parent field says what is wrong with it
            if parsed is not None:
                _require_sane_year(self, parsed.date())
        result = super().to_internal_value(value)
        _require_sane_year(self, result.date())
        return result


@extend_schema_field({"anyOf": [{"type": "string", "format": "uri"}, {"type": "string", "maxLength": 0}]})
class OptionalURLField(serializers.CharField):
    """A link that may be empty (an in-person event has none): a URL, or "". (A URLField would be documented as
    always a URI, which "" is not.)"""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(URLValidator(message=serializers.URLField.default_error_messages["invalid"]))


def with_timeline(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Organization, specialties and the review timeline in a fixed number of queries, however many rows."""
    steps = transitions_of(queryset.model)._default_manager.order_by("created_at", "id")
    timeline = Prefetch("transitions", queryset=steps)
    return queryset.select_related("organization").prefetch_related("specialties", timeline)


class SpecialtyBriefSerializer(serializers.ModelSerializer[Specialty]):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = Specialty
        fields = ["code", "name"]


class OrganizationBriefSerializer(serializers.ModelSerializer[Organization]):
    class Meta:
        model = Organization
        fields = ["id", "name", "short_name"]


def _model_field(model: type[models.Model], name: str) -> Any:
    """The serializer field a ModelSerializer builds for a model field, for a model it cannot take."""
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.Field)  # noqa: S101 - a column, not a relation
    field_class, kwargs = serializers.ModelSerializer[Any]().build_standard_field(name, model_field)
    return field_class(**kwargs)


class TransitionSerializer(serializers.Serializer[Transition]):
    """One step of the review timeline. Who made it is not shown: experts stay anonymous to providers."""

    # Built as a ModelSerializer would build them from review.models.Transition, which is abstract (each app
    # keeps its own table) and so cannot back a ModelSerializer; the fields and the API schema stay as they were.
    from_status = _model_field(Transition, "from_status")
    to_status = _model_field(Transition, "to_status")
    comment = _model_field(Transition, "comment")
    credits = _model_field(Transition, "credits")
    created_at = _model_field(Transition, "created_at")


# The public catalogue.


class CatalogActivitySerializer(serializers.Serializer[Activity]):
    """The fields every catalogue entry has; each app adds its own."""

    id = serializers.IntegerField(read_only=True)
    public_number = serializers.CharField(
        read_only=True, help_text=gettext_lazy("The activity's public number, unique across events and modules.")
    )
    title = serializers.CharField(read_only=True)
    organization = OrganizationBriefSerializer(read_only=True)
    specialties = SpecialtyBriefSerializer(many=True, read_only=True)
    hours = serializers.IntegerField(read_only=True)
    credits = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Credits granted by the expert."))


class CatalogFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters of a catalogue list. A value that cannot be understood is a 400, not silently dropped."""

    specialty = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Specialty.objects.all(),
        required=False,
        help_text=gettext_lazy("Specialty code, e.g. 31.08.20."),
    )
    date_from = BoundedDateField(
        required=False,
        help_text=gettext_lazy("Only activities that run on or after this date (ISO 8601, 2000 to 2099)."),
    )
    date_to = BoundedDateField(
        required=False,
        help_text=gettext_lazy("Only activities that run on or before this date (ISO 8601, 2000 to 2099)."),
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=gettext_lazy("Words to look for, or an activity's public number (e.g. 2026-000042)."),
    )
    provider = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, help_text=gettext_lazy("Provider organization id.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_to < date_from:
            raise ValidationError({"date_to": _("The end of the period cannot be before its start.")})
        return attrs


class FormatIsAFilter(DefaultContentNegotiation):
    """In the event catalogue `?format=online` filters events; it must not pick the response's renderer."""

    class settings:  # noqa: N801 - stands in for DRF's api_settings, of which only this attribute is read
        URL_FORMAT_OVERRIDE = None


class CatalogViewSet(viewsets.ReadOnlyModelViewSet[Any]):
    """Approved activities for anyone, filtered by the query parameters of `filter_serializer_class`."""

    permission_classes = [AllowAny]
    filter_serializer_class: ClassVar[type[CatalogFilterSerializer]] = CatalogFilterSerializer
    detail_serializer_class: ClassVar[type[serializers.BaseSerializer[Any]]]

    def catalog(self, filters: dict[str, Any]) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if self.action != "list":
            return self.catalog({})
        params = self.filter_serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return self.catalog({name: value for name, value in params.validated_data.items() if value not in (None, "")})

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "retrieve":
            return self.detail_serializer_class
        return super().get_serializer_class()


# The provider's own activities.


class ActivitySerializer(serializers.ModelSerializer[Any]):
    """An activity as its provider sees and edits it. Each app's serializer adds its content fields.

    `organization` is required from people signed in to the browser; with an API key it is the key's
    organization and may be left out. Review fields are read-only: only the workflow moves them.
    """

    # Only the caller's own organizations are found (see get_fields): another provider's id and an id that
    # does not exist get the same answer.
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        help_text=gettext_lazy("The provider organization; implied by an API key."),
        error_messages={"does_not_exist": gettext_lazy("This is not one of your organizations.")},
    )
    specialties = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=active_specialties(),
        help_text=gettext_lazy('Specialty codes, e.g. ["31.08.20"].'),
    )
    transitions = TransitionSerializer(many=True, read_only=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        request = self.context.get("request")
        organization = fields["organization"]
        if request is not None and isinstance(organization, serializers.PrimaryKeyRelatedField):
            organization.queryset = my_organizations(request)
        return fields

    class Meta:
        fields = [
            "id",
            "organization",
            "title",
            "specialties",
            "hours",
            "credits_requested",
            "status",
            "public_number",
            "credits_granted",
            "submitted_at",
            "due_at",
            "decided_at",
            "created_at",
            "updated_at",
            "transitions",
        ]
        read_only_fields = [
            "status",
            "public_number",
            "credits_granted",
            "submitted_at",
            "due_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]


class ProviderActivityFilterSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    organization = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text=gettext_lazy("Provider organization id.")
    )


class ProviderActivityViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet[Any],
):
    """Create, read and edit the organization's activities, submit and withdraw them. No DELETE: a draft that
    is no longer wanted stays in the organization's list, like every other row the register keeps.

    A signed-in person sees the activities of every organization they are a member of; an API key sees those
    of its own organization. Anything else is a 404, so that nobody learns what other providers prepare. A
    person who is a member of no provider gets 403 before anything they sent is validated (IsProviderStaff).
    """

    model: ClassVar[type[Activity]]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    permission_classes = [IsAuthenticated, IsProviderStaff]

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema is built without a user
            return self.model.objects.none()
        queryset = with_timeline(self.model.objects.all()).filter(organization__in=my_organizations(self.request))
        if self.action == "list":
            params = ProviderActivityFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            if status := params.validated_data.get("status"):
                queryset = queryset.filter(status=status)
            if organization := params.validated_data.get("organization"):
                queryset = queryset.filter(organization_id=organization)
        return queryset.order_by("-created_at", "-id")

    def _fresh(self, activity: Activity) -> Activity:
        """The activity as the API shows it, read again after a write (timeline and specialties included)."""
        fresh: Activity = self.get_queryset().get(pk=activity.pk)
        return fresh

    def _organization_for_create(self, given: Organization | None) -> Organization:
        api_key = request_api_key(self.request)
        if api_key is not None:
            return api_key.organization  # `given` can only be the key's own (ActivitySerializer.get_fields)
        if given is None:
            raise ValidationError({"organization": [_("Say which of your organizations the activity belongs to.")]})
        return given

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        data = dict(serializer.validated_data)
        specialties = data.pop("specialties")
        data.pop("transitions", None)
        organization = self._organization_for_create(data.pop("organization", None))
        activity = self.model(organization=organization, **data)
        saved = activity_save(
            activity=activity, actor=request_user(self.request), specialties=specialties, creating=True
        )
        serializer.instance = self._fresh(saved)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        activity = serializer.instance
        assert isinstance(activity, Activity)  # noqa: S101 - an update always has its instance
        data = dict(serializer.validated_data)
        organization = data.pop("organization", None)
        if organization is not None and organization.pk != activity.organization_id:
            raise ValidationError({"organization": [_("An activity cannot be moved to another organization.")]})
        specialties = data.pop("specialties", None)
        if specialties is None:
            specialties = list(activity.specialties.all())
        for name, value in data.items():
            setattr(activity, name, value)
        saved = activity_save(
            activity=activity, actor=request_user(self.request), specialties=specialties, creating=False
        )
        serializer.instance = self._fresh(saved)

    @extend_schema(
        request=None,
        summary="Submit for expert review",
        description="Checks the submission rules and hands the activity to an eligible expert. "
        "400 `submission_refused` lists what to fix; 409 `illegal_transition` when it is not editable.",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        activity = activity_submit(activity=self.get_object(), actor=request_user(request))
        return Response(self.get_serializer(self._fresh(activity)).data)

    @extend_schema(
        request=None,
        summary="Withdraw from review",
        description="Possible before the expert's decision; the activity becomes editable again. "
        "409 `illegal_transition` otherwise.",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        activity = activity_withdraw(activity=self.get_object(), actor=request_user(request))
        return Response(self.get_serializer(self._fresh(activity)).data)
