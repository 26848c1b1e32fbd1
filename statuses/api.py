"""The status programmes' API (SPEC.md, "API contract, continued"): the programmes, for anyone; applying, and my
applications and statuses, for a doctor. Applying goes through services.application_submit, as the page does, so
a refusal has the same code and message here as there."""

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Specialty
from accounts.requests import require_person
from nmo_portal.calendar import today
from nmo_portal.errors import NotFound, PortalError
from review.api_common import SpecialtyBriefSerializer

from . import selectors, services
from .access import is_doctor
from .forms import SPECIALTY_CODE_MAX
from .models import ProgrammeStage, StageResult, Status, StatusApplication, StatusProgramme


class IsDoctor(BasePermission):
    """The doctor's endpoints answer 403 to an organization's API key and to a person without a doctor's profile
    (a СНИЛС), before anything sent is read."""

    message = gettext_lazy("Statuses are applied for by doctors themselves: fill in your doctor's profile first.")

    def has_permission(self, request: Request, view: object) -> bool:
        return is_doctor(require_person(request, self.message))


# --- the programmes -------------------------------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer[ProgrammeStage]):
    name = serializers.CharField(source="display_name", read_only=True)
    pass_mark = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        coerce_to_string=False,
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy("A scored stage's pass mark in per cent; null: the stage is passed or not."),
    )

    class Meta:
        model = ProgrammeStage
        fields = ["position", "kind", "name", "pass_mark"]
        read_only_fields = fields


class EligibilitySerializer(serializers.Serializer[StatusProgramme]):
    min_practice_years = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Years of practice in the specialty, in the region if it has one.")
    )
    requires_employment_in_region = serializers.BooleanField(read_only=True)
    requires_document = serializers.BooleanField(
        read_only=True, help_text=gettext_lazy("A valid accreditation or specialist certificate in the specialty.")
    )


class ProgrammeSerializer(serializers.ModelSerializer[StatusProgramme]):
    name = serializers.CharField(source="display_name", read_only=True)
    authority = serializers.CharField(source="display_authority", read_only=True)
    region = serializers.SerializerMethodField(
        help_text=gettext_lazy("The region's code (77: Moscow) where the applicant works; null: anywhere.")
    )
    region_name = serializers.CharField(read_only=True)
    specialties = SpecialtyBriefSerializer(many=True, read_only=True)
    stages = StageSerializer(many=True, read_only=True, help_text=gettext_lazy("In order."))
    eligibility = EligibilitySerializer(source="*", read_only=True)
    allowance_rub = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("The monthly allowance per specialty, in roubles: shown, not paid.")
    )

    class Meta:
        model = StatusProgramme
        fields = [
            "id",
            "slug",
            "name",
            "authority",
            "region",
            "region_name",
            "specialties",
            "stages",
            "eligibility",
            "validity_years",
            "allowance_rub",
            "retake_wait_days",
        ]
        read_only_fields = fields

    def get_region(self, programme: StatusProgramme) -> str | None:
        return programme.region or None


class ProgrammeFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters of the list. A specialty code that names none is a 400, not silently dropped."""

    specialty = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Specialty.objects.all(),
        required=False,
        help_text=gettext_lazy("Only programmes that award a status in this specialty (its code, e.g. 31.08.20)."),
    )


@extend_schema(
    summary="Status programmes that accept applications",
    description="Each with its specialties, its stages in order (with pass marks), what it takes to apply, the "
    "validity, the allowance per specialty and the wait before a retake; of one specialty if `specialty` is given.",
    parameters=[ProgrammeFilterSerializer],
    responses=ProgrammeSerializer(many=True),
)
class ProgrammeListView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        params = ProgrammeFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = selectors.programmes()
        if specialty := params.validated_data.get("specialty"):
            found = found.filter(specialties=specialty)
        return Response(ProgrammeSerializer(found, many=True).data)


# --- my applications and statuses -----------------------------------------------------------------------------


class ProgrammeBriefSerializer(serializers.ModelSerializer[StatusProgramme]):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = StatusProgramme
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class StageResultSerializer(serializers.ModelSerializer[StageResult]):
    position = serializers.IntegerField(source="stage.position", read_only=True)
    name = serializers.CharField(source="stage.display_name", read_only=True)
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        coerce_to_string=False,
        allow_null=True,
        read_only=True,
        help_text=gettext_lazy("In per cent, on a scored stage once recorded."),
    )
    passed = serializers.BooleanField(
        allow_null=True, read_only=True, help_text=gettext_lazy("null until the result is recorded.")
    )

    class Meta:
        model = StageResult
        fields = ["position", "name", "scheduled_at", "place", "score", "passed", "held_on", "comment"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer[StatusApplication]):
    programme = ProgrammeBriefSerializer(read_only=True)
    specialty = SpecialtyBriefSerializer(read_only=True)
    stages = StageResultSerializer(source="stage_results", many=True, read_only=True)

    class Meta:
        model = StatusApplication
        fields = [
            "id",
            "programme",
            "specialty",
            "state",
            "public_consent",
            "submitted_at",
            "closed_at",
            "decision_comment",
            "stages",
        ]
        read_only_fields = fields


class StatusSerializer(serializers.ModelSerializer[Status]):
    programme = ProgrammeBriefSerializer(read_only=True)
    specialty = SpecialtyBriefSerializer(read_only=True)
    state = serializers.SerializerMethodField()
    renewal_opens_on = serializers.SerializerMethodField(
        help_text=gettext_lazy("From this day a new application renews the status.")
    )
    check_url = serializers.SerializerMethodField(
        help_text=gettext_lazy("The public check page that the certificate's QR code opens.")
    )

    class Meta:
        model = Status
        fields = [
            "number",
            "programme",
            "specialty",
            "awarded_on",
            "expires_on",
            "state",
            "public_consent",
            "renewal_opens_on",
            "check_url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": [Status.State.VALID, Status.State.EXPIRED, Status.State.REVOKED]})
    def get_state(self, found: Status) -> str:
        return found.state_on(self.context.get("day") or today())

    def get_renewal_opens_on(self, found: Status) -> date:
        return found.renewal_opens_on()

    def get_check_url(self, found: Status) -> str:
        return f"{settings.SITE_URL}{reverse('statuses:check', args=[found.check_token])}"


class MyStatusesSerializer(serializers.Serializer[dict[str, Any]]):
    applications = ApplicationSerializer(many=True, help_text=gettext_lazy("Newest first."))
    statuses = StatusSerializer(many=True)


@extend_schema(
    summary="My applications and statuses",
    description="My applications with their state and each stage's date, place and result; my statuses with "
    "their number, dates and state (`valid`, `expired` or `revoked`) and the public check page.",
    responses=MyStatusesSerializer,
)
class MyStatusesView(APIView):
    permission_classes = [IsAuthenticated, IsDoctor]

    def get(self, request: Request) -> Response:
        doctor = require_person(request, IsDoctor.message)
        context = {"day": today()}
        return Response(
            {
                "applications": ApplicationSerializer(selectors.applications_of(doctor=doctor), many=True).data,
                "statuses": StatusSerializer(selectors.statuses_of(doctor=doctor), many=True, context=context).data,
            }
        )


# --- applying -------------------------------------------------------------------------------------------------


class ApplyRequestSerializer(serializers.Serializer[dict[str, Any]]):
    specialty = serializers.CharField(
        max_length=SPECIALTY_CODE_MAX, help_text=gettext_lazy("The specialty's code, e.g. 31.08.20.")
    )
    public_consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("I agree to be named in the public register once the status is awarded."),
    )


@extend_schema(
    summary="Apply for a programme's status in one specialty",
    description="Refusals, each with the code and message the doctor's page shows: `not_eligible` (400, with "
    "`missing`: a list of `{code, message, …}` with the codes `practice_short`, `employment_in_region_missing`, "
    "`document_missing`), `application_open` (409), `retake_too_soon` (409, with `retake_from`), `status_held` "
    "(409, with `renewal_opens_on`), `specialty_unknown` (400: no specialty has the code), "
    "`specialty_not_offered` (400), `programme_closed` (400).",
    request=ApplyRequestSerializer,
    responses={201: ApplicationSerializer},
)
class ApplicationCreateView(APIView):
    permission_classes = [IsAuthenticated, IsDoctor]
    error_statuses: ClassVar[dict[str, list[int]]] = {"post": [409]}

    def post(self, request: Request, pk: int) -> Response:
        doctor = require_person(request, IsDoctor.message)
        programme = StatusProgramme.objects.filter(pk=pk).first()
        if programme is None:
            raise NotFound(gettext("There is no such status programme."))
        body = ApplyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        specialty = Specialty.objects.filter(code=body.validated_data["specialty"]).first()
        if specialty is None:
            raise PortalError(gettext("No specialty has this code."), code="specialty_unknown")
        application = services.application_submit(
            doctor=doctor,
            programme=programme,
            specialty=specialty,
            public_consent=body.validated_data["public_consent"],
        )
        found = selectors.applications_of(doctor=doctor).get(pk=application.pk)
        return Response(ApplicationSerializer(found).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("status-programmes/", ProgrammeListView.as_view(), name="status_programmes"),
    path(
        "status-programmes/<int:pk>/applications/",
        ApplicationCreateView.as_view(),
        name="status_applications",
    ),
    path("me/statuses/", MyStatusesView.as_view(), name="my_statuses"),
]
