from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.models import Membership, User
from accounts.requests import signed_in_user
from nmo_portal.errors import PortalError
from nmo_portal.spreadsheets import TableFileForm
from review import views as review_views
from review.forms import CatalogFilterForm
from review.models import Activity, Status

from . import selectors
from .completions_csv import MAX_ROWS, CompletionList, CompletionRow, read_completions
from .forms import ModuleForm
from .models import Module, ModuleCompletion
from .services import completion_report


class ModuleMixin:
    model: ClassVar[type[Activity]] = Module
    form_class: ClassVar[type[ModelForm[Any]]] = ModuleForm
    kind: ClassVar[str] = "module"


class ModuleDetailView(ModuleMixin, review_views.ActivityDetailView):
    pass


class ModuleFormView(ModuleMixin, review_views.ActivityFormView):
    pass


class ModuleSubmitView(ModuleMixin, review_views.ActivityActionView):
    action = "submit"
    success_message = gettext_noop("Submitted for expert review.")


class ModuleWithdrawView(ModuleMixin, review_views.ActivityActionView):
    action = "withdraw"
    success_message = gettext_noop("Withdrawn from review. You can edit it and submit it again.")


def catalog(request: HttpRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET or None)
    return review_views.catalog(request, kind="module", form=form, queryset=selectors.catalog_modules(form.filters()))


def catalog_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return review_views.catalog_detail(request, kind="module", pk=pk)


# Completion reports ------------------------------------------------------------------------------------


def module_completions(module: Module) -> QuerySet[ModuleCompletion]:
    """The module's completion reports, newest first. The provider sees what it reported, never whether a
    report named a registered doctor or was credited: that would tell it who has an account."""
    return ModuleCompletion.objects.filter(module=module).order_by("-created_at", "-id")


class CompletionFileForm(TableFileForm):
    file = forms.FileField(
        label=gettext_lazy("Completion report (CSV or XLSX)"),
        help_text=gettext_lazy(
            "Columns: external_id (your completion id), СНИЛС and/or e-mail, completed_at "
            "(31.12.2025 14:30, 31.12.2025 or ISO 8601; Moscow time unless the zone is given). "
            "CSV as Excel saves it (;) or UTF-8 (,)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


@dataclass
class ReportTotals:
    accepted: int = 0
    unchanged: int = 0


class ModuleCompletionsView(ModuleMixin, review_views.ProviderActivityView):
    """The module's completion reports and the upload of a report file. Members of the module's organization
    upload; staff may look; everyone else gets a 404."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity, membership = self.get_activity(request, pk)
        return self._render(request, activity, membership, CompletionFileForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity, membership = self.get_activity(request, pk)
        if membership is None:
            raise DjangoPermissionDenied  # staff may look, but only members report
        assert isinstance(activity, Module)  # noqa: S101 - ModuleMixin.model
        form = CompletionFileForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, activity, membership, form, status=400)
        upload = form.cleaned_data["file"]
        report = read_completions(form.cleaned_data["content"], upload.name)
        if not report.ok:
            return self._render(request, activity, membership, form, report=report, file_name=upload.name, status=400)
        try:
            totals = self._report(activity, signed_in_user(request), report.completions)
        except _RowRefused as refused:
            message = _("Nothing was recorded from %(file)s. Row %(row)d: %(message)s") % {
                "file": upload.name,
                "row": refused.row,
                "message": refused.message,
            }
            messages.error(request, message)
            return self._render(request, activity, membership, form, status=400)
        messages.success(
            request,
            _("Accepted: %(accepted)d, already reported: %(unchanged)d.")
            % {"accepted": totals.accepted, "unchanged": totals.unchanged},
        )
        return redirect("modules:completions", pk=activity.pk)

    @staticmethod
    def _report(module: Module, actor: User, rows: list[CompletionRow]) -> ReportTotals:
        """Every row through the one service, in one transaction: a refusal of any row records none of them.
        Rows reported before (the same completion id) change nothing and are counted as unchanged."""
        totals = ReportTotals()
        with transaction.atomic():
            for row in rows:
                try:
                    _completion, created = completion_report(
                        module=module,
                        actor=actor,
                        external_id=row.external_id,
                        completed_at=row.completed_at,
                        snils=row.snils,
                        email=row.email,
                    )
                except PortalError as exc:
                    raise _RowRefused(row.row, str(exc.message)) from exc
                if not created:
                    totals.unchanged += 1
                    continue
                totals.accepted += 1
        return totals

    def _render(
        self,
        request: HttpRequest,
        activity: Activity,
        membership: Membership | None,
        form: CompletionFileForm,
        *,
        report: CompletionList | None = None,
        file_name: str = "",
        status: int = 200,
    ) -> HttpResponse:
        assert isinstance(activity, Module)  # noqa: S101 - ModuleMixin.model
        completions = module_completions(activity)
        page = Paginator(completions, 50).get_page(request.GET.get("page"))
        counts = ModuleCompletion.objects.filter(module=activity).aggregate(total=Count("id"))
        context = {
            "activity": activity,
            "page": page,
            "query": "",
            "counts": counts,
            "form": form,
            "report": report,
            "file_name": file_name,
            "can_report": membership is not None and activity.status == Status.APPROVED,
            "max_rows": MAX_ROWS,
        }
        return render(request, self.template("completions"), context, status=status)


class _RowRefused(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message
