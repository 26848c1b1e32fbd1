"""The expert's side of the review in the API: the own queue and the decision on a case.

A case is addressed as "<kind>-<id>" ("event-12", "module-7") because the queue mixes both kinds. Only the
expert in person reviews: an organization's API key gets a 403 here.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from accounts.models import ReviewerAppointment, User
from accounts.requests import request_user, require_person

from . import kinds, selectors
from .api_common import OrganizationBriefSerializer, SpecialtyBriefSerializer, TransitionSerializer, with_timeline
from .models import Activity, PublicNumber
from .services import Decision, review_decide


class NotWithApiKey(BasePermission):
    message = _("An organization's API key cannot act as an expert: sign in in person.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        require_person(request, self.message)
        return True


class IsReviewer(BasePermission):
    message = _("Only appointed experts have a review queue.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return isinstance(user, User) and ReviewerAppointment.objects.filter(user=user, is_active=True).exists()


def case_id(activity: Activity) -> str:
    return f"{activity.kind}-{activity.pk}"


class ReviewCaseSerializer(serializers.Serializer[Activity]):
    id = serializers.SerializerMethodField(help_text=_('"event-<id>" or "module-<id>".'))
    # review's own list of kind names, so the choices do not depend on whether the apps have registered yet
    kind = serializers.ChoiceField(choices=PublicNumber.Kind.values, read_only=True)
    title = serializers.CharField(read_only=True)
    organization = OrganizationBriefSerializer(read_only=True)
    specialties = SpecialtyBriefSerializer(many=True, read_only=True)
    hours = serializers.IntegerField(read_only=True)
    credits_requested = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True)
    assigned_at = serializers.DateTimeField(read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    def get_id(self, activity: Activity) -> str:
        return case_id(activity)


class ReviewCaseDetailSerializer(ReviewCaseSerializer):
    """A case with what the expert reads before deciding, the decision and the timeline."""

    credits_granted = serializers.IntegerField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    content = serializers.SerializerMethodField(
        help_text=_("The event's programme, format, place and dates, or the module's annotation, link and window.")
    )
    transitions = TransitionSerializer(many=True, read_only=True)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_content(self, activity: Activity) -> dict[str, Any]:
        serializer = kinds.get(activity.kind).content_serializer
        data: dict[str, Any] = serializer(activity, context=self.context).data
        for common in ("id", "title", "organization", "specialties", "hours", "credits"):
            data.pop(common, None)
        return data


class DecisionSerializer(serializers.Serializer[dict[str, Any]]):
    decision = serializers.ChoiceField(choices=Decision.CHOICES)
    credits = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("Credits granted; required to approve, at most those requested.")
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("Required to reject or to ask for changes.")
    )


CASE_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description='"event-<id>" or "module-<id>".')


# Only the browser session: an API key is refused here (NotWithApiKey). The hint of `auth` says list[str], but
# drf-spectacular uses each item as an OpenAPI security requirement object.
@extend_schema(auth=[{"cookieAuth": []}])  # type: ignore[list-item]
@extend_schema_view(
    list=extend_schema(summary="The signed-in expert's open cases, the nearest deadline first"),
    retrieve=extend_schema(summary="One of the expert's cases", parameters=[CASE_ID]),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Any]):
    permission_classes = [IsAuthenticated, NotWithApiKey, IsReviewer]
    serializer_class = ReviewCaseSerializer
    lookup_value_regex = "(?:event|module)-[0-9]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema is built without a user
            return kinds.all_kinds()[0].model.objects.none()
        return selectors.reviewer_queue(reviewer=request_user(self.request))

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return ReviewCaseSerializer if self.action == "list" else ReviewCaseDetailSerializer

    def get_object(self) -> Activity:
        """A case assigned to the signed-in expert, in any state; someone else's is a 404, not a 403."""
        kind, _sep, pk = str(self.kwargs["pk"]).partition("-")
        queryset = with_timeline(kinds.get(kind).model.objects.all())
        activity: Activity = get_object_or_404(queryset, pk=int(pk), reviewer=request_user(self.request))
        return activity

    @extend_schema(
        request=DecisionSerializer,
        responses=ReviewCaseDetailSerializer,
        parameters=[CASE_ID],
        summary="Approve with credits, reject, or ask for changes",
        description="400 with `credits_required`, `credits_above_requested`, `comment_required` or `invalid`; "
        "409 `illegal_transition` once the case has been decided or withdrawn.",
    )
    @action(detail=True, methods=["post"])
    def decision(self, request: Request, pk: str | None = None) -> Response:
        activity = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review_decide(
            activity=activity,
            actor=request_user(request),
            decision=body.validated_data["decision"],
            credits=body.validated_data.get("credits"),
            comment=body.validated_data["comment"],
        )
        return Response(ReviewCaseDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)


router = SimpleRouter()
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [path("", include(router.urls))]
