"""The society report's page, PDF and CSV: the society's staff and portal administrators; anyone else 404. The
figures are those prepared in the background (societies.report_prepared), shown as of when they were computed."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from nmo_portal.errors import PortalError

from . import report, report_output
from .report_prepared import prepared_report
from .views import _society_for_staff


@login_required
def society_report(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    specialties = list(society.specialties.order_by("code"))
    context = {
        "society": society,
        "specialties": specialties,
        "first_year": report.FIRST_YEAR,
        "last_year": timezone.localdate().year,
    }
    try:
        year = report.parse_year(request.GET.get("year"))
        specialty = report.parse_specialty(society, request.GET.get("specialty"))
        prepared = prepared_report(society=society, year=year, specialty=specialty)
    except PortalError as refusal:
        return render(request, "societies/society_report.html", {**context, "refusal": refusal}, status=refusal.status)
    context.update({"year": year, "specialty": specialty, "preparing": prepared.preparing, "failed": prepared.failed})
    figures = prepared.report
    if figures is None:
        # nothing kept yet: the page (also for a file asked for) says it is being prepared (202, come back
        # later) or that the preparation failed and will be tried again (503)
        return render(request, "societies/society_report.html", context, status=503 if prepared.failed else 202)
    export = request.GET.get("format")
    if export == "csv":
        response = HttpResponse(report_output.report_csv(figures), content_type="text/csv; charset=utf-8")
        filename = report_output.report_filename(figures, extension="csv")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    if export == "pdf":
        pdf = report_output.report_pdf(figures, society_name=society.name)
        response = HttpResponse(pdf, content_type="application/pdf")
        filename = report_output.report_filename(figures, extension="pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    context.update(
        {
            "report": figures,
            "rows": report_output.figure_rows(figures),
            "charts": report_output.charts(figures),
            "as_of": report_output.generated_at(figures),
        }
    )
    return render(request, "societies/society_report.html", context)
