"""The society report's page, PDF and CSV: the society's staff and portal administrators; anyone else 404."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from nmo_portal.errors import PortalError

from . import report
from .views import _society_for_staff


@login_required
def society_report(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    specialties = list(society.specialties.order_by("code"))
    try:
        year = report.parse_year(request.GET.get("year"))
        specialty = report.parse_specialty(society, request.GET.get("specialty"))
    except PortalError as refusal:
        context = {
            "society": society,
            "specialties": specialties,
            "refusal": refusal,
            "first_year": report.FIRST_YEAR,
            "last_year": timezone.localdate().year,
        }
        return render(request, "societies/society_report.html", context, status=400)
    figures = report.society_report(society=society, year=year, specialty=specialty)
    export = request.GET.get("format")
    if export == "csv":
        response = HttpResponse(report.report_csv(figures), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{report.report_filename(figures, extension="csv")}"'
        return response
    if export == "pdf":
        response = HttpResponse(report.report_pdf(figures, society_name=society.name), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{report.report_filename(figures, extension="pdf")}"'
        return response
    context = {
        "society": society,
        "specialties": specialties,
        "specialty": specialty,
        "year": year,
        "first_year": report.FIRST_YEAR,
        "last_year": timezone.localdate().year,
        "report": figures,
        "rows": report.figure_rows(figures),
        "charts": report.charts(figures),
        "as_of": report.generated_at(figures),
    }
    return render(request, "societies/society_report.html", context)
