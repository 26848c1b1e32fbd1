"""Pages of the accreditation portfolio: the list of the doctor's specialties, the portfolio of one specialty,
and the writes of its document, report and employer's agreement. The scans, the export and the filing have
their views in views.py beside the rest of the plan's pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Specialty
from accounts.requests import signed_in_user
from ministry_sync.selectors import held_records_read_at, ministry_linked
from nmo_portal.views import refusal_shown

from . import portfolio, services
from .forms import AgreementForm, DocumentForm, ReportSectionForm
from .models import Portfolio, ReportSection
from .views import own_portfolio


@login_required
def portfolio_list(request: HttpRequest) -> HttpResponse:
    """Every specialty of the doctor with its window and readiness at a glance."""
    doctor = signed_in_user(request)
    found = portfolio.portfolios(doctor=doctor)
    if len(found) == 1:
        return redirect("learning_plan:portfolio", found[0].specialty.code)
    return render(request, "learning_plan/portfolio_list.html", {"portfolios": found})


def _specialty(code: str) -> Specialty:
    return get_object_or_404(Specialty, code=code)


@login_required
def portfolio_page(request: HttpRequest, code: str) -> HttpResponse:
    doctor = signed_in_user(request)
    specialty = _specialty(code)
    if specialty not in portfolio.portfolio_specialties(doctor):
        raise Http404
    found = portfolio.specialty_portfolio(doctor=doctor, specialty=specialty)
    return render(request, "learning_plan/portfolio.html", _context(found))


def _context(found: portfolio.SpecialtyPortfolio, **forms: object) -> dict[str, object]:
    doctor = found.doctor
    sections = [
        {
            "key": key,
            "name": name,
            "saved": found.sections.get(key),
            "form": forms.get(f"section_{key}")
            or ReportSectionForm(
                initial={"text": found.sections[key].text if key in found.sections else ""}, prefix=key
            ),
        }
        for key, name in ReportSection.Section.choices
    ]
    agreement_initial = {}
    if found.portfolio is not None and found.portfolio.agreement != Portfolio.Agreement.NOT_RECORDED:
        agreement_initial = {
            "state": found.portfolio.agreement,
            "not_needed": found.portfolio.agreement_not_needed,
            "reason": found.portfolio.agreement_reason,
        }
    return {
        "p": found,
        "document_form": forms.get("document_form") or DocumentForm(),
        "correct_form": forms.get("correct_form")
        or (DocumentForm(instance=found.document, prefix="correct") if found.document else None),
        "agreement_form": forms.get("agreement_form") or AgreementForm(initial=agreement_initial),
        "sections": sections,
        "ministry_linked": ministry_linked(doctor),
        "ministry_read_at": held_records_read_at(doctor),
        "editable": found.portfolio is not None
        and found.portfolio.filing not in (Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED),
    }


@login_required
@require_POST
def document_add(request: HttpRequest, code: str) -> HttpResponse:
    doctor = signed_in_user(request)
    specialty = _specialty(code)
    if specialty not in portfolio.portfolio_specialties(doctor):
        raise Http404
    form = DocumentForm(request.POST)
    if form.is_valid():
        with refusal_shown(request, form=form) as refused:
            services.document_record(doctor=doctor, specialty=specialty, **form.cleaned_data)
        if not refused:
            messages.success(request, _("The document is recorded; the portfolio of its five years is open."))
            return redirect("learning_plan:portfolio", code)
    found = portfolio.specialty_portfolio(doctor=doctor, specialty=specialty)
    return render(request, "learning_plan/portfolio.html", _context(found, document_form=form), status=400)


@login_required
@require_POST
def report_section(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    """Save one section of the report as a draft."""
    own = own_portfolio(request, pk)
    if section not in ReportSection.Section.values:
        raise Http404
    code = own.document.specialty.code
    form = ReportSectionForm(request.POST, prefix=section)
    if form.is_valid():
        with refusal_shown(request) as refused:
            services.report_section_save(
                portfolio=own, doctor=signed_in_user(request), section=section, text=form.cleaned_data["text"]
            )
        if not refused:
            messages.success(request, _("The section «%(section)s» is saved.") % {"section": _section_name(section)})
        return redirect(f"{_page(code)}#section-{section}")
    found = portfolio.specialty_portfolio(doctor=signed_in_user(request), specialty=own.document.specialty)
    return render(request, "learning_plan/portfolio.html", _context(found, **{f"section_{section}": form}), status=400)


def _section_name(section: str) -> str:
    return str(dict(ReportSection.Section.choices)[section])


def _page(code: str) -> str:
    return reverse("learning_plan:portfolio", args=[code])


@login_required
@require_POST
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    own = own_portfolio(request, pk)
    form = AgreementForm(request.POST)
    if form.is_valid():
        with refusal_shown(request) as refused:
            services.agreement_record(portfolio=own, doctor=signed_in_user(request), **form.cleaned_data)
        if not refused:
            messages.success(request, _("The employer's agreement is recorded."))
        return redirect(f"{_page(own.document.specialty.code)}#agreement")
    found = portfolio.specialty_portfolio(doctor=signed_in_user(request), specialty=own.document.specialty)
    return render(request, "learning_plan/portfolio.html", _context(found, agreement_form=form), status=400)


@login_required
@require_POST
def document_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the document's number, kind or date of issue while its portfolio has not been filed."""
    own = own_portfolio(request, pk)
    doctor = signed_in_user(request)
    form = DocumentForm(request.POST, prefix="correct")
    if form.is_valid():
        with refusal_shown(request, form=form) as refused:
            services.document_correct(document=own.document, doctor=doctor, **form.cleaned_data)
        if not refused:
            messages.success(request, _("The document is corrected."))
            return redirect("learning_plan:portfolio", own.document.specialty.code)
    found = portfolio.specialty_portfolio(doctor=doctor, specialty=own.document.specialty)
    return render(request, "learning_plan/portfolio.html", _context(found, correct_form=form), status=400)
