"""Pages of the learning plan: the plan, its cycles, programmes, planned activities and the cycle's report."""

import hashlib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.requests import signed_in_user
from codes.forms import (
    ActivateForm,
)
from events.models import Event
from ministry_sync.forms import LinkForm
from ministry_sync.models import MinistryLink
from modules.models import Module
from nmo_portal.views import refusal_shown

from . import export, filing, scans, selectors, services
from .forms import CycleForm, FilingForm, OutcomeForm, ProgrammeForm, ScanForm, filing_auto_id
from .models import (
    Cycle,
    PlannedActivity,
    Portfolio,
    PortfolioExport,
    PortfolioScan,
    ProgrammeEntry,
    private_storage,
)

# The learning plan ------------------------------------------------------------------------------------


# A safety net for changes no service reports (an administrator renaming a specialty or editing a rule).
PLAN_CACHE_SECONDS = 600


@login_required
def plan(request: HttpRequest) -> HttpResponse:
    """«План обучения»: cycles with progress, credited and planned activities, the activate form at hand."""
    user = signed_in_user(request)
    key = ":".join(
        [
            "plan-body",
            str(user.pk),
            str(selectors.plan_version(user.pk)),
            translation.get_language() or "",
            user.timezone,
            hashlib.sha256(request.META.get("CSRF_COOKIE", "").encode()).hexdigest()[:16],
        ]
    )
    # Its forms carry the CSRF token of the browser's cookie: without a cookie yet, nothing is cached.
    cacheable = bool(request.META.get("CSRF_COOKIE"))
    body = cache.get(key) if cacheable else None
    if body is None:
        context = {
            "plan": selectors.learning_plan(doctor=user),
            "cycle_form": CycleForm(),
            "ministry_link": MinistryLink.objects.filter(doctor=user).first(),
            "link_form": LinkForm(),
            "mock_registers_newcomers": settings.MINISTRY_MOCK_REGISTERS_NEWCOMERS and settings.DEBUG,
        }
        body = render_to_string("learning_plan/includes/plan_body.html", context, request=request)
        if cacheable:
            cache.set(key, body, PLAN_CACHE_SECONDS)
    context = {
        "plan_body": mark_safe(body),  # noqa: S308 - our own template's output, cached as rendered
        "activate_form": ActivateForm(),
    }
    return render(request, "learning_plan/plan.html", context)


@login_required
@require_POST
def cycle_add(request: HttpRequest) -> HttpResponse:
    form = CycleForm(request.POST)
    if form.is_valid():
        with refusal_shown(request) as refused:
            services.cycle_add(doctor=signed_in_user(request), **form.cleaned_data)
        if not refused:
            messages.success(request, _("Cycle added."))
    else:
        messages.error(request, _("Choose the specialty, the start date and the rule of the cycle."))
    return redirect("learning_plan:plan")


@login_required
@require_POST
def cycle_remove(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk, doctor=request.user.pk)
    services.cycle_remove(cycle=cycle, doctor=signed_in_user(request))
    messages.success(request, _("Cycle removed; your credits stay in the ledger."))
    return redirect("learning_plan:plan")


@login_required
def programme_add(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.programme_add(doctor=signed_in_user(request), **form.cleaned_data)
        messages.success(request, _("The programme is added to your plan."))
        return redirect("learning_plan:plan")
    return render(request, "learning_plan/programme_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def programme_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(ProgrammeEntry, pk=pk, doctor=request.user.pk)
    services.programme_remove(entry=entry, doctor=signed_in_user(request))
    messages.success(request, _("Removed."))
    return redirect("learning_plan:plan")


@login_required
@require_POST
def plan_add(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    if kind == "event":
        activity: Any = get_object_or_404(Event, pk=pk)
        add = {"event": activity}
    elif kind == "module":
        activity = get_object_or_404(Module, pk=pk)
        add = {"module": activity}
    else:
        raise Http404
    with refusal_shown(request) as refused:
        services.plan_add(doctor=user, **add)
    if not refused:
        messages.success(request, _("«%(title)s» is in your learning plan.") % {"title": activity.title})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("learning_plan:plan")
    return redirect(target)


@login_required
@require_POST
def plan_remove(request: HttpRequest, pk: int) -> HttpResponse:
    planned = get_object_or_404(PlannedActivity, pk=pk, doctor=request.user.pk)
    services.plan_remove(planned=planned, doctor=signed_in_user(request))
    return redirect("learning_plan:plan")


@login_required
def plan_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The activity report of one cycle for the educational organization, as PDF or CSV."""
    from .report import report_csv, report_pdf

    user = signed_in_user(request)
    learning = selectors.learning_plan(doctor=user)
    cycle_plan = next((c for c in learning.cycles if c.cycle.pk == pk), None)
    if cycle_plan is None:
        raise Http404
    name = f"nmo-report-{cycle_plan.cycle.specialty.code}-{cycle_plan.cycle.starts_on:%Y}"
    if fmt == "csv":
        response = HttpResponse(report_csv(cycle_plan, doctor=user), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    else:
        response = HttpResponse(report_pdf(cycle_plan, doctor=user), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


# Filing the accreditation portfolio and its outcome -------------------------------------------------------

# Which field of the form a service's refusal is about, by its code; the others show above the form.
FILING_REFUSAL_FIELDS = {
    "filing_in_future": "filed_on",
    "filing_before_issue": "filed_on",
    "filing_before_refusal": "filed_on",
}
OUTCOME_REFUSAL_FIELDS = {
    "outcome_in_future": "outcome_on",
    "outcome_before_filing": "outcome_on",
    "outcome_note_missing": "note",
    "outcome_note_invalid": "note",
    "new_document_number_missing": "new_number",
    "new_document_number_invalid": "new_number",
    "document_in_future": "new_issued_on",
    "document_exists": "new_issued_on",
    "new_document_before_filing": "new_issued_on",
}


def _filing_refused(request: HttpRequest, portfolio: Portfolio, form: Any, action: str) -> HttpResponse:
    """The form again, with what was wrong: the page answers 400 and nothing was recorded."""
    context = {
        "portfolio": portfolio,
        "form": form,
        "action": action,
        "back": filing.portfolio_path(portfolio.document.specialty.code),
    }
    return render(request, "learning_plan/portfolio/filing_form.html", context, status=400)


# The portfolio's scans and export (issue 14, items 3 "scans" and 4 "Export") --------------------------------


def own_portfolio(request: HttpRequest, pk: int) -> Portfolio:
    """The signed-in doctor's portfolio; another doctor's is a 404, as if it did not exist."""
    return get_object_or_404(
        Portfolio.objects.select_related("document__specialty", "doctor"), pk=pk, doctor=request.user.pk
    )


def _back(request: HttpRequest, portfolio: Portfolio) -> HttpResponse:
    """Back to the page the form was sent from (its `next`), else to the portfolio's page."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("learning_plan:portfolio", args=[portfolio.document.specialty.code])
    return redirect(target)


@login_required
@require_POST
def portfolio_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor records that they filed the portfolio in ФРМР."""
    portfolio = own_portfolio(request, pk)
    form = FilingForm(request.POST, auto_id=filing_auto_id(portfolio.pk))
    if form.is_valid():
        with refusal_shown(request, form=form, field=lambda exc: FILING_REFUSAL_FIELDS.get(exc.code)) as refused:
            filing.filing_record(
                portfolio=portfolio, doctor=signed_in_user(request), filed_on=form.cleaned_data["filed_on"]
            )
        if not refused:
            messages.success(request, _("The filing is recorded. The stages show when to expect each step."))
            return redirect(filing.portfolio_path(portfolio.document.specialty.code))
    return _filing_refused(request, portfolio, form, "file")


@login_required
@require_POST
def portfolio_scan_add(request: HttpRequest, pk: int) -> HttpResponse:
    portfolio = own_portfolio(request, pk)
    form = ScanForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _back(request, portfolio)
    with refusal_shown(request) as refused:
        scan = scans.scan_add(
            portfolio=portfolio,
            doctor=signed_in_user(request),
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            uploaded_file=form.cleaned_data["file"],
        )
    if not refused:
        messages.success(request, _("«%(title)s» is attached to the portfolio.") % {"title": scan.title})
    return _back(request, portfolio)


@login_required
@require_POST
def portfolio_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor records the outcome of the filing: accredited, with the new document, or refused, with why."""
    portfolio = own_portfolio(request, pk)
    form = OutcomeForm(request.POST, auto_id=filing_auto_id(portfolio.pk))
    if form.is_valid():
        data = form.cleaned_data
        accredited = data["outcome"] == OutcomeForm.ACCREDITED
        with refusal_shown(request, form=form, field=lambda exc: OUTCOME_REFUSAL_FIELDS.get(exc.code)) as refused:
            filing.outcome_record(
                portfolio=portfolio,
                doctor=signed_in_user(request),
                accredited=accredited,
                outcome_on=data["outcome_on"],
                note=data["note"],
                new_number=data["new_number"],
                new_issued_on=data["new_issued_on"],
            )
        if not refused:
            if accredited:
                messages.success(
                    request, _("Congratulations: the new accreditation is recorded, and its cycle is open.")
                )
            else:
                messages.success(request, _("The refusal is recorded; the portfolio is open for changes again."))
            return redirect(filing.portfolio_path(portfolio.document.specialty.code))
    return _filing_refused(request, portfolio, form, "outcome")


@login_required
@require_POST
def portfolio_scan_remove(request: HttpRequest, pk: int, scan_pk: int) -> HttpResponse:
    portfolio = own_portfolio(request, pk)
    scan = get_object_or_404(PortfolioScan, pk=scan_pk, portfolio=portfolio)
    with refusal_shown(request) as refused:
        scans.scan_remove(scan=scan, doctor=signed_in_user(request))
    if not refused:
        messages.success(request, _("«%(title)s» is removed from the portfolio.") % {"title": scan.title})
    return _back(request, portfolio)


def _private_file(field: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """A file of the private storage for its owner alone: downloaded, never shown in the page, never sniffed.
    Read through STORAGES["private"] as it is named now (the field's storage was fixed when the model loaded)."""
    if not field.name:
        raise Http404
    try:
        content = private_storage().open(field.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(content, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def portfolio_scan_file(request: HttpRequest, pk: int, scan_pk: int) -> FileResponse:
    """A scan as it was uploaded, named as its document is named in the export."""
    portfolio = own_portfolio(request, pk)
    scan = get_object_or_404(PortfolioScan, pk=scan_pk, portfolio=portfolio)
    stem = scans.scan_names(scans.person_name(portfolio.doctor), portfolio.scans.all())[scan.pk]
    extension = scans.EXTENSIONS.get(scan.content_type, "bin")
    return _private_file(scan.file, filename=f"{stem}.{extension}", content_type=scan.content_type)


@login_required
@require_POST
def portfolio_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for the ZIP of every document; without a worker it is built after the commit, in this request."""
    portfolio = own_portfolio(request, pk)
    with refusal_shown(request) as refused:
        asked = export.export_request(portfolio=portfolio, doctor=signed_in_user(request))
    if not refused:
        asked.refresh_from_db(fields=["state", "error"])
        status = export.ExportStatus(asked)
        if asked.state == PortfolioExport.State.DONE:
            messages.success(request, _("The files for filing are ready to download."))
        elif asked.state == PortfolioExport.State.FAILED:
            messages.error(request, status.error_message)
        else:
            messages.info(request, _("The files for filing are being prepared; the link appears here when they are."))
    return _back(request, portfolio)


@never_cache
@login_required
def portfolio_export_state(request: HttpRequest, pk: int) -> JsonResponse:
    """Where the export asked for last stands, for the page to follow."""
    status = export.export_status(own_portfolio(request, pk))
    if status is None:
        return JsonResponse({"state": "", "state_label": "", "progress": 0, "error": "", "download_url": ""})
    return JsonResponse(status.as_json())


@login_required
def portfolio_export_file(request: HttpRequest, pk: int, export_pk: int) -> FileResponse:
    portfolio = own_portfolio(request, pk)
    built = get_object_or_404(PortfolioExport, pk=export_pk, portfolio=portfolio, state=PortfolioExport.State.DONE)
    return _private_file(built.file, filename=export.export_filename(portfolio), content_type="application/zip")
