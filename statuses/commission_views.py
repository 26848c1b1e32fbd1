"""The commission's pages: the queue of a member's programmes and specialties, and one application with its
frozen portfolio, its stages (date and place, results in order) and the decision. Every write goes through
statuses.services, which checks the seat and the conflict of interest again; a refusal shows on the page and
changes nothing."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.requests import signed_in_user
from nmo_portal.calendar import register_zone_name
from nmo_portal.errors import PortalError
from nmo_portal.views import refusal_shown

from . import commission, selectors, services
from .commission_forms import DecisionForm, StageResultForm, StageScheduleForm
from .models import CommissionMember, ProgrammeStage, StatusApplication, open_first

PAGE_SIZE = 50
OPEN = StatusApplication.State.OPEN
CLOSED = "closed"  # the filter of every ended application, whatever its end


def _state_filters() -> list[tuple[str, str]]:
    return [
        ("", _("All, open ones first")),
        (OPEN, str(StatusApplication.State.OPEN.label)),
        (CLOSED, _("All closed")),
        *((value, str(label)) for value, label in StatusApplication.State.choices if value != OPEN),
    ]


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The applications of the programmes and specialties where the person sits, open ones first."""
    user = signed_in_user(request)
    seats = list(selectors.seats_of(user))
    if not seats:
        raise DjangoPermissionDenied
    filters = _state_filters()
    state = request.GET.get("state", "")
    if state not in {value for value, _label in filters}:
        state = ""
    found = selectors.commission_queue(user=user, state=None)
    if state == CLOSED:
        found = found.exclude(state=OPEN)
    elif state:
        found = found.filter(state=state)
    found = found.order_by(open_first(), "submitted_at", "id")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    conflicts = commission.conflicted(user=user, seats=seats, applications=page.object_list)
    rows = [
        {"application": a, "next": commission.next_result(a), "conflict": a.pk in conflicts} for a in page.object_list
    ]
    context = {
        "seats": seats,
        "rows": rows,
        "page": page,
        "state": state,
        "filters": filters,
        "query": f"state={state}" if state else "",
        "register_zone": register_zone_name(),
    }
    return render(request, "statuses/commission_queue.html", context)


def _member_application(request: HttpRequest, pk: int) -> tuple[User, StatusApplication, CommissionMember, bool]:
    """The application, the seat from which the person looks at it, and whether they must leave it to another
    member (the applicant works for their employer). Anyone without a seat on its commission: 403."""
    user = signed_in_user(request)
    application = get_object_or_404(
        StatusApplication.objects.select_related("programme", "specialty", "doctor", "decided_by"), pk=pk
    )
    seat = CommissionMember.objects.filter(
        user=user,
        programme_id=application.programme_id,
        specialty_id=application.specialty_id,
        retired_at__isnull=True,
    ).first()
    if seat is None:
        raise DjangoPermissionDenied
    return user, application, seat, services.has_conflict(seat=seat, application=application)


def _page(
    request: HttpRequest,
    pk: int,
    *,
    schedule: StageScheduleForm | None = None,
    result: StageResultForm | None = None,
    decision: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The application's page, read afresh (a refused write may have met a change made meanwhile), with the
    form that was posted in place of its blank one."""
    _user, application, _seat, conflict = _member_application(request, pk)
    rows = commission.stage_rows(application)
    editable = application.is_open and not conflict
    stage_rows = []
    for row in rows:
        schedule_form = result_form = None
        if editable and not row.is_recorded:
            schedule_form = (
                schedule
                if schedule is not None and schedule.prefix == f"schedule-{row.stage.pk}"
                else StageScheduleForm(stage=row.stage, result=row.result)
            )
        if editable and row.is_next:
            result_form = (
                result
                if result is not None and result.prefix == f"result-{row.stage.pk}"
                else StageResultForm(stage=row.stage)
            )
        stage_rows.append({"row": row, "schedule_form": schedule_form, "result_form": result_form})
    decidable = editable and commission.all_stages_passed(rows)
    posted = next((form for form in (schedule, result, decision) if form is not None), None)
    context = {
        "application": application,
        "status": getattr(application, "status", None) if application.state == application.State.AWARDED else None,
        "conflict": conflict,
        "portfolio": commission.frozen_portfolio(application),
        "stages": stage_rows,
        "decision_form": (decision or DecisionForm()) if decidable else None,
        "refusals": posted.non_field_errors() if posted is not None else [],
        "register_zone": register_zone_name(),
    }
    return render(request, "statuses/commission_application.html", context, status=status)


@login_required
def application(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, pk)


def _refused_status(refusal: PortalError | None) -> int:
    return refusal.status if refusal is not None else 400


def _fields(form: Any) -> Any:
    return lambda exc: form.FIELDS_OF_CODES.get(exc.code)


def _back(pk: int, anchor: str) -> HttpResponse:
    return redirect(f"{reverse('statuses:commission_application', args=[pk])}#{anchor}")


def _writable(request: HttpRequest, pk: int, stage_id: int | None = None) -> tuple[User, StatusApplication, Any]:
    """A write on the application: a member without a conflict (403 otherwise, before anything posted is read);
    the stage must be the programme's (404)."""
    user, application, _seat, conflict = _member_application(request, pk)
    if conflict:
        raise DjangoPermissionDenied
    stage = None
    if stage_id is not None:
        stage = get_object_or_404(ProgrammeStage, pk=stage_id, programme_id=application.programme_id)
    return user, application, stage


@login_required
@require_POST
def stage_schedule(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    user, application, stage = _writable(request, pk, stage_id)
    form = StageScheduleForm(request.POST, stage=stage)
    if form.is_valid():
        with refusal_shown(request, form=form, field=_fields(form), forbidden_page=True) as refused:
            services.stage_schedule(application=application, stage=stage, user=user, **form.cleaned_data)
        if not refused:
            messages.success(request, _("The date and place of «%(stage)s» are set.") % {"stage": stage.display_name})
            return _back(pk, f"stage-{stage.position}")
        return _page(request, pk, schedule=form, status=_refused_status(refused.error))
    return _page(request, pk, schedule=form, status=400)


@login_required
@require_POST
def stage_result(request: HttpRequest, pk: int, stage_id: int) -> HttpResponse:
    user, application, stage = _writable(request, pk, stage_id)
    form = StageResultForm(request.POST, stage=stage)
    if form.is_valid():
        with refusal_shown(request, form=form, field=_fields(form), forbidden_page=True) as refused:
            recorded = services.stage_result_record(
                application=application, stage=stage, user=user, **form.service_arguments()
            )
        if not refused:
            done = _("«%(stage)s»: passed.") if recorded.passed else _("«%(stage)s»: not passed. The attempt is over.")
            messages.success(request, done % {"stage": stage.display_name})
            return _back(pk, f"stage-{stage.position}")
        return _page(request, pk, result=form, status=_refused_status(refused.error))
    return _page(request, pk, result=form, status=400)


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user, application, _stage = _writable(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        award = form.cleaned_data["decision"] == "award"
        with refusal_shown(request, form=form, field=_fields(form), forbidden_page=True) as refused:
            services.application_decide(
                application=application, user=user, award=award, comment=form.cleaned_data["comment"]
            )
        if not refused:
            messages.success(request, _("The status is awarded.") if award else _("The status is refused."))
            return _back(pk, "decision")
        return _page(request, pk, decision=form, status=_refused_status(refused.error))
    return _page(request, pk, decision=form, status=400)
