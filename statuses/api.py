"""The status programmes' API (SPEC.md, "API contract, continued"). Placeholder until its part lands."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
