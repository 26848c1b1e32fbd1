from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Membership, Organization, OrganizationApiKey, Specialty, User, WorkRecord
from .selectors import doctor_profile_get, user_roles, work_records
from .work import REGIONS


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # registers itself
    """`Authorization: Api-Key <key>` in the OpenAPI schema (accounts.authentication.ApiKeyAuthentication)."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organization's key, sent as `Api-Key <key>`.",
        }


class SpecialtySerializer(serializers.ModelSerializer[Specialty]):
    class Meta:
        model = Specialty
        fields = ["code", "name", "name_en"]


class MyOrganizationSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Organization.Kind.choices)
    role = serializers.CharField(
        help_text=gettext_lazy("`admin` or `member`; `api_key` when an organization's key is asking.")
    )


class ApiKeyBriefSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()


class WorkRecordSerializer(serializers.ModelSerializer[WorkRecord]):
    """One period of the work history; `ended_on` is null while the doctor works there."""

    region = serializers.ChoiceField(
        choices=REGIONS, help_text=gettext_lazy("The subject of the federation by its code: 77 is Moscow.")
    )
    specialty = serializers.CharField(source="specialty.code", help_text=gettext_lazy("Specialty code, e.g. 31.08.20."))

    class Meta:
        model = WorkRecord
        fields = ["employer", "employer_inn", "region", "unit", "position", "specialty", "started_on", "ended_on"]


class MeSerializer(serializers.Serializer[dict[str, Any]]):
    """A person: their profile, roles, the organizations they belong to and their work history."""

    email = serializers.EmailField()
    full_name = serializers.CharField()
    snils = serializers.CharField(allow_null=True)
    specialties = SpecialtySerializer(many=True)
    roles = serializers.ListField(child=serializers.CharField())
    organizations = MyOrganizationSerializer(many=True)
    work_history = WorkRecordSerializer(
        many=True, help_text=gettext_lazy("The places of work, current ones first, then the latest.")
    )


class ApiKeyMeSerializer(serializers.Serializer[dict[str, Any]]):
    """An organization's API key: the key and its organization, never the personal data of its creator."""

    api_key = ApiKeyBriefSerializer()
    roles = serializers.ListField(child=serializers.CharField())
    organizations = MyOrganizationSerializer(many=True)


def _organization(organization: Organization, role: str) -> dict[str, Any]:
    return {"id": organization.pk, "name": organization.name, "kind": organization.kind, "role": role}


class MeView(APIView):
    @extend_schema(
        responses=PolymorphicProxySerializer(
            component_name="MeOrApiKey", serializers=[MeSerializer, ApiKeyMeSerializer], resource_type_field_name=None
        ),
        summary="The signed-in user (or the API key): profile, roles, organizations",
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if not isinstance(user, User):  # IsAuthenticated has already refused anonymous callers
            raise NotAuthenticated
        if isinstance(request.auth, OrganizationApiKey):
            return Response(ApiKeyMeSerializer(self._api_key(request.auth)).data)
        roles = user_roles(user)
        doctor = doctor_profile_get(user=user)
        names = [
            name
            for name, held in (
                ("doctor", roles.is_doctor),
                ("provider", roles.is_provider),
                ("reviewer", roles.is_reviewer),
                ("staff", roles.is_staff),
            )
            if held
        ]
        memberships = Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "snils": doctor.snils if doctor else None,
            "specialties": list(doctor.specialties.all()) if doctor else [],
            "roles": names,
            "organizations": [_organization(m.organization, m.role) for m in memberships],
            "work_history": work_records(doctor=user),
        }
        return Response(MeSerializer(data).data)

    @staticmethod
    def _api_key(api_key: OrganizationApiKey) -> dict[str, Any]:
        return {
            "api_key": {"name": api_key.name, "prefix": api_key.prefix, "created_at": api_key.created_at},
            "roles": ["provider"],
            "organizations": [_organization(api_key.organization, "api_key")],
        }


urlpatterns = [path("me/", MeView.as_view(), name="me")]
