"""API of the learning plan."""

from typing import Any

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import require_person

from . import portfolio, selectors


class PlanView(APIView):
    """GET /api/v1/me/plan/ — cycles, components with required and earned hours, records with sync state."""

    @extend_schema(
        summary="The doctor's learning plan",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        doctor = require_person(request, _("The learning plan is read by the doctor, not with an organization's key."))
        plan = selectors.learning_plan(doctor=doctor)

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


class PortfolioView(APIView):
    """GET /api/v1/me/portfolio/ — per specialty: the document's expiry and filing window, readiness with the stable
    codes of what is missing, the hours of the closest alternative, and the education table."""

    @extend_schema(
        summary="The doctor's accreditation portfolio, per specialty",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        doctor = require_person(request, _("The portfolio is read by the doctor, not with an organization's key."))
        found = portfolio.portfolios(doctor=doctor)
        return Response(
            {
                "portfolios": [
                    {
                        "specialty": p.specialty.code,
                        "specialty_name": p.specialty.display_name,
                        "document": (
                            {
                                "kind": p.document.kind,
                                "number": p.document.number,
                                "issued_on": p.document.issued_on.isoformat(),
                            }
                            if p.document
                            else None
                        ),
                        "expires_on": p.expires_on.isoformat() if p.expires_on else None,
                        "window_opens_on": p.window_opens_on.isoformat() if p.window_opens_on else None,
                        "window": p.window,
                        "ready": p.ready,
                        "missing": [gap.as_json() for gap in p.missing],
                        "alternative": p.closest.alternative.display_name if p.closest else None,
                        "hours": p.hours_json(),
                        "agreement": p.portfolio.agreement if p.portfolio else None,
                        "filing": p.portfolio.filing if p.portfolio else None,
                        "items": [item.as_json() for item in p.items],
                    }
                    for p in found
                ]
            }
        )


urlpatterns = [
    path("me/plan/", PlanView.as_view(), name="plan"),
    path("me/portfolio/", PortfolioView.as_view(), name="portfolio"),
]
