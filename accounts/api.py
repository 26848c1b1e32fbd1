from typing import Any

from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Specialty, User
from .selectors import doctor_profile_get, user_roles


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


class MeSerializer(serializers.Serializer[dict[str, Any]]):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    snils = serializers.CharField(allow_null=True)
    specialties = SpecialtySerializer(many=True)
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user: profile and roles")
    def get(self, request: Request) -> Response:
        user = request.user
        if not isinstance(user, User):  # IsAuthenticated has already refused anonymous callers
            raise NotAuthenticated
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
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "snils": doctor.snils if doctor else None,
            "specialties": list(doctor.specialties.all()) if doctor else [],
            "roles": names,
        }
        return Response(MeSerializer(data).data)


urlpatterns = [path("me/", MeView.as_view(), name="me")]
