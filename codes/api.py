"""API of codes: activation, and an event's codes for its provider's systems."""

from typing import Any, ClassVar

from django.conf import settings
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.requests import IsProviderStaff, my_organizations, request_user, require_person
from credits.api import CreditRecordSerializer, credit_record
from events.models import Event
from nmo_portal.errors import PortalError
from nmo_portal.middleware import client_ip

from . import issuance, selectors, services
from .attendees import AttendeesInvalid, read_attendee_rows, require_clean
from .models import IcpCode, IssuanceBatch


class ActivateSerializer(serializers.Serializer[dict[str, Any]]):
    MAX_LENGTH = 40
    code = serializers.CharField(
        max_length=MAX_LENGTH, help_text=_("As printed, e.g. 7K3M-P2QX9RTA; case and dashes do not matter.")
    )


class ActivateView(APIView):
    """POST /api/v1/codes/activate/ — 201 with the credit record, or an error with a stable code."""

    error_statuses: ClassVar[dict[str, list[int]]] = {"post": [429]}  # too many unsuccessful attempts

    @extend_schema(request=ActivateSerializer, responses={201: CreditRecordSerializer}, summary="Activate a code")
    def post(self, request: Request) -> Response:
        doctor = require_person(
            request, _("Codes are activated by doctors themselves, not with an organization's key.")
        )
        try:
            entry = services.code_activate(user=doctor, raw=_typed_code(request.data), ip=client_ip(request._request))
        except services.ActivationError as exc:
            return Response(
                {"error": {"code": exc.code, "message": str(exc.message), **exc.details}}, status=exc.status
            )
        return Response(credit_record(entry), status=status.HTTP_201_CREATED)


def _typed_code(data: Any) -> str:
    """The body's code, as `ActivateSerializer` reads it. A plain string of printable characters (no NUL, no
    surrogate, no control character) that is not blank and fits, as every activation sends, is taken as it is
    without building the serializer; anything else goes through it, for its validation errors."""
    value = data.get("code") if isinstance(data, dict) else None
    if isinstance(value, str) and value.isprintable():
        value = value.strip()
        if 0 < len(value) <= ActivateSerializer.MAX_LENGTH:
            return value
    body = ActivateSerializer(data=data)
    body.is_valid(raise_exception=True)
    return str(body.validated_data["code"])


class AttendeeSerializer(serializers.Serializer[dict[str, Any]]):
    """One attendee as the provider has it. Only the shape is checked here; the rules (and their messages and
    stable codes) are those of an uploaded file, in `codes.attendees`."""

    full_name = serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False)
    email = serializers.CharField(max_length=1000, allow_blank=True)
    snils = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)


class IssueSerializer(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=1, required=False)
    # Refused by its length before any attendee is looked at; the body itself is bounded by REQUEST_MAX_BYTES.
    attendees: serializers.ListSerializer[dict[str, Any]] = serializers.ListSerializer(
        child=AttendeeSerializer(), required=False, max_length=settings.ICP_MAX_ATTENDEES_PER_REQUEST
    )
    reissue = serializers.BooleanField(
        default=False,
        help_text=_("Issue again to attendees who already hold a code of the event; without it they are skipped."),
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("count" in data) == ("attendees" in data):
            raise serializers.ValidationError(_("Give either count or attendees."))
        return data


class SkippedSerializer(serializers.Serializer[dict[str, str]]):
    full_name = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)


class BatchSerializer(serializers.ModelSerializer[IssuanceBatch]):
    skipped = SkippedSerializer(
        many=True, read_only=True, help_text=_("Attendees left out because they already hold a code of the event.")
    )

    class Meta:
        model = IssuanceBatch
        fields = ["id", "kind", "state", "requested", "issued", "progress", "skipped", "created_at", "finished_at"]


class CodeSerializer(serializers.ModelSerializer[IcpCode]):
    code = serializers.CharField(source="display")
    verify_url = serializers.SerializerMethodField()
    activated_by_email = serializers.CharField(
        read_only=True, allow_null=True, help_text=_("The e-mail of the account that activated the code.")
    )
    email_mismatch = serializers.BooleanField(
        read_only=True, help_text=_("Activated by an account whose e-mail is not the holder's e-mail of the list.")
    )

    class Meta:
        model = IcpCode
        fields = [
            "id",
            "code",
            "status",
            "holder_name",
            "holder_email",
            "activated_at",
            "activated_by_email",
            "email_mismatch",
            "revoked_at",
            "verify_url",
        ]

    def get_verify_url(self, code: IcpCode) -> str:
        return code.verify_url()


class IssueThrottle(UserRateThrottle):
    """Issuing codes, by person (an API key counts as its creator); the rate is in settings."""

    scope = "codes_issue"


class CodeFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters of the codes list. A value that cannot be understood is a 400, not an empty list."""

    status = serializers.ChoiceField(choices=IcpCode.Status.choices, required=False)
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("A code as printed, or words of the holder's name or e-mail."),
    )


class EventCodesView(APIView):
    """GET the event's codes with their state; POST issues codes (count or attendees)."""

    permission_classes = [IsAuthenticated, IsProviderStaff]
    pagination_class = PageNumberPagination  # the schema shows the paginated envelope the list answers with
    error_statuses: ClassVar[dict[str, list[int]]] = {"post": [409, 429]}  # codes_already_held; IssueThrottle

    def get_throttles(self) -> list[Any]:
        return [IssueThrottle()] if self.request.method == "POST" else []

    def event(self, request: Request, pk: int) -> Event:
        """The event, if it is the caller's organization's; an unknown id and another's event answer alike."""
        events = Event.objects.select_related("organization").filter(organization__in=my_organizations(request))
        event = events.filter(pk=pk).first()
        if event is None:
            raise NotFound
        return event

    @extend_schema(
        responses=CodeSerializer(many=True),
        parameters=[CodeFilterSerializer],
        summary="The event's codes",
        description="Paginated, oldest first.",
    )
    def get(self, request: Request, pk: int) -> Response:
        event = self.event(request, pk)
        params = CodeFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        codes = selectors.event_codes(event=event, filters=params.validated_data)
        page = paginator.paginate_queryset(codes, request, view=self)
        return paginator.get_paginated_response(CodeSerializer(page, many=True).data)

    @extend_schema(
        request=IssueSerializer,
        responses={201: BatchSerializer, 202: BatchSerializer},
        summary="Issue codes",
        description="Attendees who already hold a code of the event (by e-mail or СНИЛС) are skipped and listed "
        'in `skipped`, unless `"reissue": true`. 409 `codes_already_held` (with `skipped`) when every attendee '
        "holds one; 400 `attendees_invalid` with `rows` (`row`, `field`, `code`, `message`) when a row is wrong.",
    )
    def post(self, request: Request, pk: int) -> Response:
        event = self.event(request, pk)
        body = IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            attendees = None
            if "attendees" in data:
                attendees = require_clean(
                    read_attendee_rows(data["attendees"], max_rows=settings.ICP_MAX_ATTENDEES_PER_REQUEST)
                )
            batch = issuance.codes_issue(
                event=event,
                actor=request_user(request),
                count=data.get("count"),
                attendees=attendees,
                reissue=data["reissue"],
            )
        except AttendeesInvalid as exc:
            rows = [{"row": e.row, "field": e.field, "code": e.code, "message": e.message} for e in exc.problems]
            return _error(exc, rows=rows)
        except issuance.IssuanceRefused as exc:
            return _error(exc, skipped=exc.skipped)
        done = batch.state == IssuanceBatch.State.DONE
        return Response(
            BatchSerializer(batch).data, status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED
        )


def _error(exc: PortalError, **details: object) -> Response:
    return Response({"error": {"code": exc.code, "message": str(exc.message), **details}}, status=exc.status)


urlpatterns = [
    path("codes/activate/", ActivateView.as_view(), name="activate"),
    path("events/<int:pk>/codes/", EventCodesView.as_view(), name="event-codes"),
]
