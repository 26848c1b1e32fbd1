"""Announcements in the API: the published ones, for anyone, of one specialty if asked."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import path, reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from accounts.models import Specialty
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
