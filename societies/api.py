"""Announcements in the API: the published ones, for anyone, of one specialty if asked; and the needs surveys
open to a doctor, which the doctor answers."""

from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet, prefetch_related_objects
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization, Specialty, User
from accounts.requests import require_person
from nmo_portal.errors import NotFound, PortalError
from review.api_common import OrganizationBriefSerializer, SpecialtyBriefSerializer

from . import selectors, surveys
from .models import Announcement, Option, Question, Survey
from .text import render_markdown


class AnnouncementFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters of the list. A specialty code that names none is a 400, not silently dropped."""

    specialty = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Specialty.objects.all(),
        required=False,
        help_text=gettext_lazy("Specialty code, e.g. 31.08.20."),
    )


class AnnouncementSerializer(serializers.ModelSerializer[Announcement]):
    society = OrganizationBriefSerializer(read_only=True)
    specialties = SpecialtyBriefSerializer(many=True, read_only=True)
    body = serializers.CharField(read_only=True, help_text=gettext_lazy("The text as written, in Markdown."))
    body_html = serializers.SerializerMethodField(
        help_text=gettext_lazy("The text rendered and sanitised: safe to show as HTML.")
    )
    url = serializers.SerializerMethodField(help_text=gettext_lazy("The announcement's page on the portal."))

    class Meta:
        model = Announcement
        fields = ["id", "society", "title", "body", "body_html", "specialties", "published_at", "pinned", "url"]
        read_only_fields = fields

    def get_body_html(self, announcement: Announcement) -> str:
        return str(render_markdown(announcement.body))

    def get_url(self, announcement: Announcement) -> str:
        return f"{settings.SITE_URL}{reverse('societies:announcement', args=[announcement.pk])}"


@extend_schema(
    summary="Published announcements of professional societies",
    description="Announcements whose publication time has come and that have not been withdrawn, of one "
    "specialty if `specialty` is given: pinned first, then newest.",
    parameters=[AnnouncementFilterSerializer],
)
class AnnouncementListView(generics.ListAPIView[Announcement]):
    permission_classes = [AllowAny]
    serializer_class = AnnouncementSerializer

    def get_queryset(self) -> QuerySet[Announcement]:
        params = AnnouncementFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.public_announcements(specialty=params.validated_data.get("specialty"))


urlpatterns = [path("announcements/", AnnouncementListView.as_view(), name="announcements")]


# --- the society report ---------------------------------------------------------------------------------------


# A caller told the report is being prepared is asked to come back after this many seconds.
RETRY_AFTER_SECONDS = 60


class SocietyReportSerializer(serializers.Serializer[dict[str, Any]]):
    """The figures of societies.report.SocietyReport, as numbers."""

    society_id = serializers.IntegerField()
    year = serializers.IntegerField()
    specialties = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Specialty codes."))
    computed_at = serializers.DateTimeField(
        help_text=gettext_lazy("When the figures were computed (they are prepared in the background).")
    )
    preparing = serializers.BooleanField(help_text=gettext_lazy("Newer figures are being prepared."))
    submitted = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    returned = serializers.IntegerField(help_text=gettext_lazy("Returned for changes."))
    credits = serializers.IntegerField(help_text=gettext_lazy("Credits granted, net of reversals."))
    credits_by_month = serializers.ListField(child=serializers.IntegerField())
    median_review_days = serializers.FloatField(allow_null=True)
    decisions_timed = serializers.IntegerField()
    overdue = serializers.IntegerField()
    codes_issued = serializers.IntegerField()
    codes_activated = serializers.IntegerField()
    codes_activated_share = serializers.FloatField(allow_null=True)
    module_completions = serializers.IntegerField()
    cycles_running = serializers.IntegerField()
    doctors_with_cycles = serializers.IntegerField()
    progress = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Cycles by progress: lt25, 25to50, 50to75, ge75.")
    )
    survey_responses = serializers.IntegerField(allow_null=True)


class SocietyReportPreparingSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=["preparing"])
    year = serializers.IntegerField()
    specialty = serializers.CharField(allow_null=True)


class SocietyReportQuerySerializer(serializers.Serializer[dict[str, Any]]):
    year = serializers.CharField(required=False, help_text=gettext_lazy("Four digits; the current year if not given."))
    specialty = serializers.CharField(required=False, help_text=gettext_lazy("One of the society's specialties."))


@extend_schema(
    summary="The society report",
    description="A year's figures of the society's specialties (or one of them), for its staff and portal "
    "administrators; anyone else gets 404, and a society not yet verified 403 `organization_not_verified`. The "
    "figures are prepared in the background and kept: `computed_at` says when; figures older than "
    "SOCIETY_REPORT_MAX_AGE_MINUTES (an hour by default) are returned and a newer preparation is queued "
    '(`preparing`). Before the first preparation is done the answer is 202 `{"status": "preparing"}` with '
    "`Retry-After`; if it failed, 503 `report_preparation_failed` with `Retry-After` (it is tried again). A bad "
    "year is a 400 with the code `year_invalid` or `year_out_of_range`; a specialty the society does not carry, "
    "`specialty_not_in_society`.",
    parameters=[
        SocietyReportQuerySerializer,
        OpenApiParameter(
            "Retry-After",
            OpenApiTypes.INT,
            location=OpenApiParameter.HEADER,
            response=[202, 503],
            description="Seconds to wait before asking again.",
        ),
    ],
    responses={200: SocietyReportSerializer, 202: SocietyReportPreparingSerializer},
)
class SocietyReportView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request, society_id: int) -> Response:
        from . import report
        from .report_prepared import prepared_report
        from .services import is_society_staff

        society = Organization.objects.filter(pk=society_id).first()
        if society is None or not is_society_staff(society=society, user=request.user):  # type: ignore[arg-type]
            raise NotFound(gettext("No such society."))
        year = report.parse_year(request.query_params.get("year"))
        specialty = report.parse_specialty(society, request.query_params.get("specialty"))
        prepared = prepared_report(society=society, year=year, specialty=specialty)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if prepared.report is None and prepared.failed:
            message = gettext("The report could not be prepared; it will be tried again in a few minutes.")
            failure = {"error": {"code": "report_preparation_failed", "message": message}}
            return Response(failure, status=503, headers=retry)
        if prepared.report is None:
            waiting = {"status": "preparing", "year": year, "specialty": specialty.code if specialty else None}
            return Response(waiting, status=202, headers=retry)
        figures = {**prepared.report.as_json(), "preparing": prepared.preparing}
        return Response(SocietyReportSerializer(figures).data)


urlpatterns += [path("societies/<int:society_id>/report/", SocietyReportView.as_view(), name="society_report")]
# --- needs surveys ----------------------------------------------------------------------------------------------


class SurveyOptionSerializer(serializers.ModelSerializer[Option]):
    class Meta:
        model = Option
        fields = ["id", "text"]
        read_only_fields = fields


class SurveyQuestionSerializer(serializers.ModelSerializer[Question]):
    options = SurveyOptionSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "kind", "text", "required", "options"]
        read_only_fields = fields


class SurveyBriefSerializer(serializers.ModelSerializer[Survey]):
    society = OrganizationBriefSerializer(read_only=True)
    answered = serializers.BooleanField(read_only=True, help_text=gettext_lazy("Whether I have answered it."))

    class Meta:
        model = Survey
        fields = ["id", "society", "title", "intro", "opens_on", "closes_on", "answered"]
        read_only_fields = fields


class SurveyDetailSerializer(SurveyBriefSerializer):
    questions = SurveyQuestionSerializer(many=True, read_only=True)

    class Meta(SurveyBriefSerializer.Meta):
        fields = [*SurveyBriefSerializer.Meta.fields, "questions"]
        read_only_fields = fields


class SurveyAnswerItemSerializer(serializers.Serializer[dict[str, Any]]):
    question = serializers.IntegerField(help_text=gettext_lazy("The question's id."))
    value = serializers.JSONField(
        allow_null=True,
        help_text=gettext_lazy(
            "single: an option's id; multiple: a list of options' ids; scale: 1 to 5; text and case: a text of at "
            "most 5,000 characters."
        ),
    )


class SurveyResponseSerializer(serializers.Serializer[dict[str, Any]]):
    answers = serializers.ListField(child=serializers.DictField(), max_length=surveys.MAX_QUESTIONS)


def _doctor(request: Request) -> User:
    return require_person(request, gettext_lazy("Surveys are answered by doctors themselves."))


@extend_schema(summary="Needs surveys open to me", responses=SurveyBriefSerializer(many=True))
class SurveyListView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        found = selectors.surveys_open_to(_doctor(request))
        return Response(SurveyBriefSerializer(found, many=True).data)


@extend_schema(summary="A needs survey open to me, with its questions", responses=SurveyDetailSerializer)
class SurveyDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        survey = selectors.survey_for_doctor(pk=pk, doctor=_doctor(request))
        if survey is None:
            raise NotFound(gettext("There is no such survey."))
        prefetch_related_objects([survey], "questions__options")
        return Response(SurveyDetailSerializer(survey).data)


@extend_schema(
    summary="Answer a needs survey",
    description="One response per doctor. Refusals: `survey_already_answered` (409), `survey_closed` (400: not "
    "open today), `survey_not_for_you` (403: the survey is for none of my specialties), `survey_answer_invalid` "
    "(400: an option of another question, a scale outside 1–5, a text over 5,000 characters or holding NUL, a "
    "required question left unanswered).",
    request=SurveyResponseSerializer,
    responses={201: None},
)
class SurveyResponseView(APIView):
    permission_classes = [IsAuthenticated]
    error_statuses: ClassVar[dict[str, list[int]]] = {"post": [409]}

    def post(self, request: Request, pk: int) -> Response:
        doctor = _doctor(request)
        survey = Survey.objects.filter(pk=pk).exclude(status=Survey.Status.DRAFT).first()
        if survey is None:
            raise NotFound(gettext("There is no such survey."))
        body = SurveyResponseSerializer(data=request.data)
        if not body.is_valid():
            raise PortalError(
                gettext_lazy("The answers are not a list of one answer per question."), code="survey_answer_invalid"
            )
        surveys.survey_answer(survey=survey, doctor=doctor, answers=body.validated_data["answers"])
        return Response(status=status.HTTP_201_CREATED)


urlpatterns += [
    path("surveys/", SurveyListView.as_view(), name="surveys"),
    path("surveys/<int:pk>/", SurveyDetailView.as_view(), name="survey"),
    path("surveys/<int:pk>/responses/", SurveyResponseView.as_view(), name="survey_responses"),
]
