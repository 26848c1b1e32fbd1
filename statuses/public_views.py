"""The status's public side: the check page its certificate's QR code opens, the register of holders who agreed
to be named, and the holder's certificate PDF."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header, urlencode

from accounts.models import Specialty
from accounts.requests import signed_in_user
from nmo_portal.calendar import today

from . import selectors
from .certificate_pdf import certificate_filename, status_certificate_pdf
from .models import Status, StatusProgramme

REGISTER_PAGE_SIZE = 50
TOKEN_MAX = 64  # the column's width: a longer token matches nothing and is not looked up
SPECIALTY_CODE_MAX = 16


def _private(response: HttpResponse) -> HttpResponse:
    """A page about one person is neither indexed by search engines nor kept by shared caches."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def check(request: HttpRequest, token: str) -> HttpResponse:
    """The check page behind the certificate's QR code: addressed by the status's random token, never by its
    number (numbers run in sequence, so anyone could walk them). It says whether the status is valid today, in
    the register's zone. A revoked status shows the day it was revoked but not the reason: the reason may speak of
    the holder's conduct or health, which the holder is told by e-mail and the public has no need of."""
    status = None
    if len(token) <= TOKEN_MAX:
        status = Status.objects.select_related("programme", "specialty", "doctor").filter(check_token=token).first()
    if status is None:
        return _private(render(request, "statuses/check.html", {"status": None}, status=404))
    context = {
        "status": status,
        "state": status.state_on(today()),
        "holder": status.doctor.full_name if status.public_consent else None,
    }
    return _private(render(request, "statuses/check.html", context))


def register(request: HttpRequest) -> HttpResponse:
    """Holders of a valid status who agreed to be named, of one specialty if asked; 50 to a page."""
    code = request.GET.get("specialty", "").strip()
    specialty = None
    unknown = False
    if code:
        specialty = Specialty.objects.filter(code=code).first() if len(code) <= SPECIALTY_CODE_MAX else None
        unknown = specialty is None
    if unknown:
        page = Paginator(Status.objects.none(), REGISTER_PAGE_SIZE).get_page(1)
    else:
        page = Paginator(selectors.public_register(specialty=specialty), REGISTER_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    context = {
        "page": page,
        "specialty": specialty,
        "unknown_code": code if unknown else "",
        "specialties": Specialty.objects.filter(
            pk__in=StatusProgramme.specialties.through.objects.values("specialty_id")
        ).order_by("code"),
        "query": urlencode({"specialty": specialty.code}) if specialty else "",
    }
    return render(request, "statuses/register.html", context, status=400 if unknown else 200)


@login_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate PDF, for its holder and the portal's administrators; anyone else gets a 404, not a hint
    that the status exists. A revoked status has no certificate to print: 410 with a page saying so."""
    user = signed_in_user(request)
    status = get_object_or_404(Status.objects.select_related("programme", "specialty", "doctor"), pk=pk)
    if status.doctor_id != user.pk and not user.is_staff:
        raise Http404
    if status.revoked_at is not None:
        return render(request, "statuses/certificate_revoked.html", {"status": status}, status=410)
    response = HttpResponse(status_certificate_pdf(status), content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=certificate_filename(status)) or "attachment"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
