"""Pages of codes: the doctor's activation and disputes, the provider's issuance, codes, certificates and
disputes, and the public check page."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors as accounts_selectors
from accounts.requests import require_member_or_staff, signed_in_user
from credits.selectors import described, doctor_ledger
from events.models import Event
from nmo_portal.middleware import client_ip
from nmo_portal.views import refusal_shown
from review.models import Status

from . import certificates, issuance, selectors, services
from .attendees import AttendeeList, read_attendees
from .certificate_pdf import certificate_pdf
from .certificates import certificates_file_is_stale, private_storage
from .format import format_code
from .forms import (
    ActivateForm,
    AttendeeFileForm,
    CodeFilterForm,
    DisputeForm,
    IssueBlankForm,
    ResolveDisputeForm,
    RevokeForm,
)
from .models import Dispute, EventCertificatesFile, IcpCode, IssuanceBatch


@login_required
def activate(request: HttpRequest) -> HttpResponse:
    """The doctor's credits with the activation form on top."""
    user = signed_in_user(request)
    form = ActivateForm(request.POST or None)
    back = _safe_next(request)
    failure: services.ActivationError | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.code_activate(user=user, raw=form.cleaned_data["code"], ip=client_ip(request))
        except services.ActivationError as exc:
            failure = exc
            status = exc.status
        else:
            messages.success(
                request,
                ngettext(
                    "Code activated: %(credits)d credit for «%(event)s».",
                    "Code activated: %(credits)d credits for «%(event)s».",
                    entry.credits,
                )
                % {"credits": entry.credits, "event": entry.activity},
            )
            return redirect(back or "codes:activate")
    dispute_url = None
    if failure is not None and failure.code in (
        "code_taken",
        "code_issued_to_another",
        "code_not_found",
        "code_revoked",
    ):
        dispute_url = (
            reverse("codes:dispute_new") + "?" + urlencode({"code": form.data.get("code", ""), "failure": failure.code})
        )
    context = {
        "form": form,
        "failure": failure,
        "failure_message": _failure_message(failure),
        "dispute_url": dispute_url,
        "next": back,
        "entries": described(doctor_ledger(doctor=user)),
        "problems": accounts_selectors.profile_problems(user),
        "disputes": selectors.doctor_disputes(doctor=user)[:10],
    }
    return render(request, "codes/credit_list.html", context, status=status)


def _safe_next(request: HttpRequest) -> str | None:
    """Where the doctor activated from (the learning plan's form says so), when it is a page of this portal."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else None


def _failure_message(failure: services.ActivationError | None) -> str:
    """The refusal, with a mistyped code set in a monospace font so that I, l and 1 (or O and 0) differ."""
    if failure is None:
        return ""
    message, shown = str(failure.message), failure.details.get("shown")
    if failure.code != "code_malformed" or not isinstance(shown, str) or shown not in message:
        return message
    before, _dash, after = message.partition(shown)
    return format_html('{}<code class="code-shown">{}</code>{}', before, shown, after)


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    typed = request.POST.get("code_text", "") if request.method == "POST" else request.GET.get("code", "")
    # A code the portal issued names its event: the doctor is not asked to retype it.
    event = services.dispute_event(typed)
    initial = {"code_text": request.GET.get("code", ""), "failure": request.GET.get("failure", "")}
    form = DisputeForm(request.POST or None, initial=initial, event_known=event is not None)
    if request.method == "POST" and form.is_valid():
        services.dispute_open(doctor=user, data=services.DisputeInput(**form.cleaned_data))
        messages.success(request, _("Your dispute is sent. The provider and the portal administrators will answer."))
        return redirect("codes:activate")
    place = services.event_place(event) if event else ""
    return render(request, "codes/dispute_form.html", {"form": form, "event": event, "place": place})


@login_required
@require_POST
def name_visibility(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(IcpCode, pk=pk, activated_by=request.user.pk)
    services.code_set_name_visibility(code=code, user=signed_in_user(request), show=request.POST.get("show") == "1")
    messages.success(request, _("Saved."))
    return redirect("codes:activate")


# Provider pages ---------------------------------------------------------------------------------------


def _provider_event(request: HttpRequest, pk: int) -> Event:
    """The event, for members of its organization (staff may look); everyone else gets a 404."""
    event = get_object_or_404(Event.objects.select_related("organization"), pk=pk)
    require_member_or_staff(request, event.organization)
    return event


def _require_member(request: HttpRequest, event: Event) -> None:
    """Staff may look at an event's codes, but only its provider's members issue them."""
    if not accounts_selectors.is_org_member(user=signed_in_user(request), organization=event.organization):
        raise DjangoPermissionDenied


@login_required
def event_codes(request: HttpRequest, pk: int) -> HttpResponse:
    event = _provider_event(request, pk)
    filters = CodeFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(selectors.event_codes(event=event, filters=values), 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    certificates = EventCertificatesFile.objects.filter(event=event).first()
    context = {
        "event": event,
        "page": page,
        "query": query.urlencode(),
        "filters": filters,
        "counts": selectors.event_code_counts(event=event),
        "batches": selectors.event_batches(event=event)[:10],
        "blank_form": IssueBlankForm(),
        "file_form": AttendeeFileForm(),
        "can_issue": event.status == Status.APPROVED,
        "certificates": certificates,
        "certificates_stale": certificates is not None and certificates_file_is_stale(certificates),
        "open_disputes": Dispute.objects.filter(event=event, state=Dispute.State.OPEN).count(),
    }
    return render(request, "codes/event_codes.html", context)


@login_required
@require_POST
def issue_blank(request: HttpRequest, pk: int) -> HttpResponse:
    event = _provider_event(request, pk)
    _require_member(request, event)
    form = IssueBlankForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("count", [])))
        return redirect("codes:event_codes", pk=pk)
    with refusal_shown(request) as refused:
        batch = issuance.codes_issue(event=event, actor=signed_in_user(request), count=form.cleaned_data["count"])
    if not refused:
        _issued_message(request, batch)
    return redirect("codes:event_codes", pk=pk)


@login_required
@require_POST
def issue_file(request: HttpRequest, pk: int) -> HttpResponse:
    event = _provider_event(request, pk)
    _require_member(request, event)
    form = AttendeeFileForm(request.POST, request.FILES)
    if not form.is_valid():
        unread = AttendeeList(attendees=[], errors=[], file_error=" ".join(str(e) for e in form.errors.get("file", [])))
        upload = request.FILES.get("file")
        context = {"event": event, "report": unread, "file_name": upload.name if upload else ""}
        return render(request, "codes/attendee_report.html", context, status=400)
    upload = form.cleaned_data["file"]
    attendees = read_attendees(form.cleaned_data["content"], upload.name)
    if not attendees.ok:
        context = {"event": event, "report": attendees, "file_name": upload.name}
        return render(request, "codes/attendee_report.html", context, status=400)
    with refusal_shown(request) as refused:
        batch = issuance.codes_issue(
            event=event,
            actor=signed_in_user(request),
            attendees=attendees.attendees,
            source_name=upload.name,
            reissue=form.cleaned_data["issue_again"],
        )
    if not refused:
        _issued_message(request, batch)
    return redirect("codes:event_codes", pk=pk)


def _issued_message(request: HttpRequest, batch: IssuanceBatch) -> None:
    # Read again: a large batch is written after the commit, by the worker or (without one) in this request.
    batch.refresh_from_db(fields=["state", "issued"])
    if batch.state == IssuanceBatch.State.DONE:
        issued = ngettext("Issued %(count)d code.", "Issued %(count)d codes.", batch.issued)
        messages.success(request, issued % {"count": batch.issued})
    else:
        # Said so that it stays true whatever the worker has done by the time the page shows it: the batch's own
        # line below carries the live state.
        accepted = ngettext(
            "Issuance of %(count)d code accepted; its progress is shown below.",
            "Issuance of %(count)d codes accepted; its progress is shown below.",
            batch.requested,
        )
        messages.info(request, accepted % {"count": batch.requested})
    if batch.skipped:
        messages.warning(request, issuance.issuance_skipped_message(batch))


@never_cache
@login_required
def batch_progress(request: HttpRequest, pk: int) -> JsonResponse:
    batch = get_object_or_404(IssuanceBatch.objects.select_related("event"), pk=pk)
    _provider_event(request, batch.event_id)
    return JsonResponse(
        {
            "state": batch.state,
            "state_label": batch.get_state_display(),
            "issued": batch.issued,
            "requested": batch.requested,
            "progress": batch.progress,
        }
    )


@login_required
def codes_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    event = _provider_event(request, pk)
    # streamed: 200,000 codes are tens of megabytes of CSV, never held whole in memory
    response = StreamingHttpResponse(selectors.codes_csv_chunks(event=event), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="codes-event-{event.pk}.csv"'
    return response


@login_required
@require_POST
def code_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(IcpCode.objects.select_related("event"), pk=pk)
    _provider_event(request, code.event_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for revoking the code."))
    else:
        with refusal_shown(request) as refused:
            services.code_revoke(code=code, actor=signed_in_user(request), reason=form.cleaned_data["reason"])
        if not refused:
            messages.success(request, _("Code %(code)s revoked.") % {"code": code.display})
    return redirect("codes:event_codes", pk=code.event_id)


@login_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    code = get_object_or_404(IcpCode.objects.select_related("event__organization"), pk=pk)
    _provider_event(request, code.event_id)
    response = HttpResponse(certificate_pdf([code]), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{format_code(code.code)}.pdf"'
    return response


@login_required
def event_certificates(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The whole event's certificates in one file, built by Celery into the private storage and streamed from
    it to the event's provider and the portal staff only; POST asks for a fresh build."""
    event = _provider_event(request, pk)
    if request.method == "POST":
        with refusal_shown(request) as refused:
            record = certificates.event_certificates_request(event=event, actor=signed_in_user(request))
        if not refused:
            # Without a worker the file is built after the commit, in this request: say what happened.
            record.refresh_from_db(fields=["state"])
            if record.state == EventCertificatesFile.State.READY:
                messages.success(request, _("The file with all certificates is ready."))
            elif record.state == EventCertificatesFile.State.FAILED:
                messages.error(request, _("The file with all certificates could not be built; try again."))
            else:
                messages.info(
                    request, _("The file with all certificates is asked for; its link appears here once it is built.")
                )
        return redirect("codes:event_codes", pk=pk)
    built = EventCertificatesFile.objects.filter(event=event).exclude(file_name="").first()
    if built is None:
        raise Http404
    try:
        content = private_storage().open(built.file_name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(content, as_attachment=True, filename=f"certificates-event-{event.pk}.pdf")


@never_cache
@login_required
def event_certificates_state(request: HttpRequest, pk: int) -> JsonResponse:
    """Where the build of the whole event's file stands, for the codes page to follow."""
    event = _provider_event(request, pk)
    record = EventCertificatesFile.objects.filter(event=event).first()
    if record is None:
        return JsonResponse({"state": "", "state_label": ""})
    return JsonResponse({"state": record.state, "state_label": record.get_state_display()})


@login_required
def event_disputes(request: HttpRequest, pk: int) -> HttpResponse:
    event = _provider_event(request, pk)
    disputes = selectors.event_disputes(event=event)
    return render(
        request, "codes/event_disputes.html", {"event": event, "disputes": disputes, "form": ResolveDisputeForm()}
    )


@login_required
@require_POST
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute.objects.select_related("event"), pk=pk)
    if dispute.event_id is None:
        raise Http404
    _provider_event(request, dispute.event_id)
    form = ResolveDisputeForm(request.POST)
    if form.is_valid():
        with refusal_shown(request) as refused:
            services.dispute_resolve(
                dispute=dispute,
                actor=signed_in_user(request),
                accepted=form.cleaned_data["accepted"],
                resolution=form.cleaned_data["resolution"],
            )
        if not refused:
            messages.success(request, _("Answer saved."))
    else:
        messages.error(request, _("Choose an answer and write it for the doctor."))
    return redirect("codes:event_disputes", pk=dispute.event_id)


# Public -----------------------------------------------------------------------------------------------


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The certificate check page behind the QR code. Addressed by its own token, never by the code."""
    code = selectors.code_by_token(token)
    if code is None:
        return render(request, "codes/verify.html", {"code": None}, status=404)
    context: dict[str, Any] = {
        "code": code,
        "event": code.event,
        "not_ended": code.event.ends_at > timezone.now(),
        "holder": code.public_holder_name,
    }
    return render(request, "codes/verify.html", context)
