"""A programme's statistics, as a page and as CSV: administrators and the programme's commission; anyone else
signed in gets 403, visitors the sign-in page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.requests import signed_in_user
from nmo_portal.calendar import register_zone
from nmo_portal.errors import PortalError
from societies.report import FIRST_YEAR

from . import statistics as figures
from .models import StatusProgramme


def _programme_for_viewer(request: HttpRequest, slug: str) -> StatusProgramme:
    programme = get_object_or_404(StatusProgramme, slug=slug)
    if not figures.may_view(signed_in_user(request), programme):
        raise DjangoPermissionDenied
    return programme


def _computed(request: HttpRequest, slug: str) -> tuple[StatusProgramme, figures.ProgrammeStatistics | HttpResponse]:
    """The programme and its figures, or the page with the refusal (400) when `?year=` is not a year."""
    programme = _programme_for_viewer(request, slug)
    try:
        year = figures.parse_statistics_year(request.GET.get("year"))
    except PortalError as refusal:
        context = {"programme": programme, "refusal": refusal, **_year_bounds()}
        return programme, render(request, "statuses/statistics.html", context, status=400)
    return programme, figures.programme_statistics(programme=programme, year=year)


def _year_bounds() -> dict[str, int]:
    return {"first_year": FIRST_YEAR, "last_year": timezone.localdate().year}


@login_required
def statistics(request: HttpRequest, slug: str) -> HttpResponse:
    programme, found = _computed(request, slug)
    if isinstance(found, HttpResponse):
        return found
    context = {
        "programme": programme,
        "stats": found,
        "year": found.year,
        "chart": figures.pass_rate_chart(found),
        "outcome_labels": figures.outcome_labels(),
        "as_of": f"{timezone.localtime(found.as_of, register_zone()):%d.%m.%Y %H:%M}",
        **_year_bounds(),
    }
    return render(request, "statuses/statistics.html", context)


@login_required
def statistics_csv(request: HttpRequest, slug: str) -> HttpResponse:
    _programme, found = _computed(request, slug)
    if isinstance(found, HttpResponse):
        return found
    response = HttpResponse(figures.statistics_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{figures.csv_filename(found)}"'
    return response
