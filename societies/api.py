"""Announcements in the API: the published ones, for anyone, of one specialty if asked."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization, Specialty
from nmo_portal.errors import NotFound
from review.api_common import OrganizationBriefSerializer, SpecialtyBriefSerializer

from . import selectors
from .models import Announcement
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


class SocietyReportSerializer(serializers.Serializer[dict[str, Any]]):
    """The figures of societies.report.SocietyReport, as numbers."""

    society_id = serializers.IntegerField()
    year = serializers.IntegerField()
    specialties = serializers.ListField(child=serializers.CharField(), help_text=gettext_lazy("Specialty codes."))
    computed_at = serializers.DateTimeField(help_text=gettext_lazy("When the figures were computed (kept an hour)."))
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


class SocietyReportQuerySerializer(serializers.Serializer[dict[str, Any]]):
    year = serializers.CharField(required=False, help_text=gettext_lazy("Four digits; the current year if not given."))
    specialty = serializers.CharField(required=False, help_text=gettext_lazy("One of the society's specialties."))


@extend_schema(
    summary="The society report",
    description="A year's figures of the society's specialties (or one of them), for its staff and portal "
    "administrators; anyone else gets 404. A bad year is a 400 with the code `year_invalid` or "
    "`year_out_of_range`; a specialty the society does not carry, `specialty_not_in_society`.",
    parameters=[SocietyReportQuerySerializer],
    responses=SocietyReportSerializer,
)
class SocietyReportView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request, society_id: int) -> Response:
        from . import report
        from .services import is_society_staff

        society = Organization.objects.filter(pk=society_id).first()
        if society is None or not is_society_staff(society=society, user=request.user):  # type: ignore[arg-type]
            raise NotFound(gettext("No such society."))
        year = report.parse_year(request.query_params.get("year"))
        specialty = report.parse_specialty(society, request.query_params.get("specialty"))
        figures = report.society_report(society=society, year=year, specialty=specialty)
        return Response(SocietyReportSerializer(figures.as_json()).data)


urlpatterns += [path("societies/<int:society_id>/report/", SocietyReportView.as_view(), name="society_report")]
