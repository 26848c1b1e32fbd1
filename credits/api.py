"""API of codes: a doctor activates a code; an event's provider issues codes and lists them."""

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from accounts.models import Membership
from events.models import Event
from nmo_portal.middleware import client_ip
from review.api_common import request_api_key, request_user

from . import selectors, services
from .attendees import Attendee
from .models import CreditEntry, IcpCode, IssuanceBatch


class ActivateSerializer(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(
        max_length=40, help_text=_("As printed, e.g. 7K3M-P2QX9RTA; case and dashes do not matter.")
    )


class ActivityRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


_DATETIME = serializers.DateTimeField()


# The declared fields document the record (OpenAPI); to_representation builds it directly, because DRF copies
# a serializer's fields for every instance and this one answers every activation of a congress evening.
class CreditRecordSerializer(serializers.Serializer[CreditEntry]):
    """A row of the doctor's credit ledger: a credit or its reversal."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=CreditEntry.Kind.choices, read_only=True)
    # DRF's metaclass takes declared fields off the class, so this does not hide Field.source at run time
    source = serializers.ChoiceField(choices=CreditEntry.Source.choices, read_only=True)  # type: ignore[assignment]
    credits = serializers.IntegerField(read_only=True)
    earned_on = serializers.DateField(read_only=True)
    event = ActivityRefSerializer(allow_null=True, read_only=True)
    code = serializers.CharField(allow_null=True, read_only=True, help_text=_("The ИКП as printed, XXXX-XXXXXXXX"))
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, entry: CreditEntry) -> dict[str, Any]:
        event, code = entry.event, entry.code
        return {
            "id": entry.pk,
            "kind": entry.kind,
            "source": entry.source,
            "credits": entry.credits,
            "earned_on": entry.earned_on.isoformat(),
            "event": {"id": event.pk, "title": event.title} if event is not None else None,
            "code": code.display if code is not None else None,
            "created_at": _DATETIME.to_representation(entry.created_at),
        }


class ActivateView(APIView):
    """POST /api/v1/codes/activate/ — 201 with the credit record, or an error with a stable code."""

    @extend_schema(request=ActivateSerializer, responses={201: CreditRecordSerializer}, summary="Activate a code")
    def post(self, request: Request) -> Response:
        if request_api_key(request) is not None:
            raise PermissionDenied(_("Codes are activated by doctors themselves, not with an organization's key."))
        body = ActivateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            entry = services.code_activate(
                user=request_user(request), raw=body.validated_data["code"], ip=client_ip(request._request)
            )
        except services.ActivationError as exc:
            return Response(
                {"error": {"code": exc.code, "message": str(exc.message), **exc.details}}, status=exc.status
            )
        return Response(CreditRecordSerializer(entry).data, status=status.HTTP_201_CREATED)


class AttendeeSerializer(serializers.Serializer[dict[str, Any]]):
    full_name = serializers.CharField(max_length=300)
    email = serializers.EmailField()
    snils = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)


class IssueSerializer(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField(min_value=1, required=False)
    attendees = AttendeeSerializer(many=True, required=False)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("count" in data) == ("attendees" in data):
            raise serializers.ValidationError(_("Give either count or attendees."))
        return data


class BatchSerializer(serializers.ModelSerializer[IssuanceBatch]):
    class Meta:
        model = IssuanceBatch
        fields = ["id", "kind", "state", "requested", "issued", "progress", "created_at", "finished_at"]


class CodeSerializer(serializers.ModelSerializer[IcpCode]):
    code = serializers.CharField(source="display")
    verify_url = serializers.SerializerMethodField()

    class Meta:
        model = IcpCode
        fields = ["id", "code", "status", "holder_name", "holder_email", "activated_at", "revoked_at", "verify_url"]

    def get_verify_url(self, code: IcpCode) -> str:
        from django.conf import settings

        return f"{settings.SITE_URL}/verify/{code.verify_token}/"


class IssueThrottle(UserRateThrottle):
    rate = "60/hour"


class EventCodesView(APIView):
    """GET the event's codes with their state; POST issues codes (count or attendees)."""

    def get_throttles(self) -> list[Any]:
        return [IssueThrottle()] if self.request.method == "POST" else []

    def event(self, request: Request, pk: int) -> Event:
        event = get_object_or_404(Event.objects.select_related("organization"), pk=pk)
        key = request_api_key(request)
        user = request_user(request)
        if key is not None:
            if key.organization_id != event.organization_id:
                raise NotFound
        elif not Membership.objects.filter(organization_id=event.organization_id, user=user).exists():
            raise NotFound
        return event

    @extend_schema(responses=CodeSerializer(many=True), summary="The event's codes")
    def get(self, request: Request, pk: int) -> Response:
        event = self.event(request, pk)
        filters = {"status": request.query_params.get("status", ""), "q": request.query_params.get("q", "")}
        from rest_framework.pagination import PageNumberPagination

        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(selectors.event_codes(event=event, filters=filters), request, view=self)
        return paginator.get_paginated_response(CodeSerializer(page, many=True).data)

    @extend_schema(
        request=IssueSerializer, responses={201: BatchSerializer, 202: BatchSerializer}, summary="Issue codes"
    )
    def post(self, request: Request, pk: int) -> Response:
        event = self.event(request, pk)
        body = IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attendees = None
        if "attendees" in body.validated_data:
            attendees = self.attendees(body.validated_data["attendees"])
        batch = services.codes_issue(
            event=event, actor=request_user(request), count=body.validated_data.get("count"), attendees=attendees
        )
        done = batch.state == IssuanceBatch.State.DONE
        return Response(
            BatchSerializer(batch).data, status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED
        )

    @staticmethod
    def attendees(rows: list[dict[str, Any]]) -> list[Attendee]:
        """The same checks as an uploaded file: a bad row fails the whole request and issues nothing."""
        from django.core.exceptions import ValidationError

        from accounts.snils import normalize_snils, validate_snils

        errors: dict[str, Any] = {}
        seen: dict[str, int] = {}
        result = []
        for index, row in enumerate(rows):
            email = row["email"].strip().lower()
            snils = normalize_snils(row.get("snils") or "") or None
            if snils:
                try:
                    validate_snils(snils)
                except ValidationError as exc:
                    errors[f"attendees[{index}].snils"] = exc.messages
            if email in seen:
                errors[f"attendees[{index}].email"] = [_("Same e-mail as attendee %(n)d.") % {"n": seen[email]}]
            seen.setdefault(email, index)
            result.append(Attendee(full_name=" ".join(row["full_name"].split()), email=email, snils=snils, row=index))
        if errors:
            raise serializers.ValidationError(errors)
        return result


class PlanView(APIView):
    """GET /api/v1/me/plan/ — cycles, components with required and earned hours, records with sync state."""

    @extend_schema(
        summary="The doctor's learning plan",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        if request_api_key(request) is not None:
            raise PermissionDenied(_("The learning plan is read by the doctor, not with an organization's key."))
        plan = selectors.learning_plan(doctor=request_user(request))

        def record(r: selectors.Record) -> dict[str, Any]:
            return {
                "key": r.key,
                "kind": r.kind,
                "title": r.title,
                "source": r.source,
                "credits": r.credits,
                "earned_on": r.earned_on.isoformat(),
                "code": r.code or None,
                "sync_state": r.sync_state,
                "counted": bool(r.cycles),
                "not_counted_reason": r.not_counted_reason or None,
            }

        cycles = []
        for cp in plan.cycles:
            cycles.append(
                {
                    "id": cp.cycle.pk,
                    "specialty": {"code": cp.cycle.specialty.code, "name": cp.cycle.specialty.display_name},
                    "starts_on": cp.cycle.starts_on.isoformat(),
                    "ends_on": cp.cycle.ends_on.isoformat(),
                    "rule": cp.cycle.rule.slug,
                    "required": cp.required,
                    "counted": cp.counted,
                    "remaining": cp.remaining,
                    "pace_per_year": cp.pace_per_year,
                    "components": [
                        {
                            "counts": c.component.counts,
                            "name": c.component.display_name,
                            "required": c.required,
                            "earned": c.earned,
                            "above_target": c.above,
                            "minimum_within": c.component.is_minimum,
                        }
                        for c in cp.components
                    ],
                    "records": [record(r) for r in cp.records],
                    "programmes": [
                        {
                            "name": p.name,
                            "organization": p.organization,
                            "hours": p.hours,
                            "ends_on": p.ends_on.isoformat(),
                            "document_number": p.document_number,
                        }
                        for p in cp.programmes
                    ],
                }
            )
        return Response(
            {
                "cycles": cycles,
                "not_counted": [record(r) for r in plan.not_counted],
                "planned": [
                    {
                        "kind": "event" if p.item.event_id else "module",
                        "id": p.activity.pk,
                        "title": p.activity.title,
                        "done": p.done,
                    }
                    for p in plan.planned
                ],
            }
        )


urlpatterns = [
    path("me/plan/", PlanView.as_view(), name="plan"),
    path("codes/activate/", ActivateView.as_view(), name="activate"),
    path("events/<int:pk>/codes/", EventCodesView.as_view(), name="event-codes"),
]
