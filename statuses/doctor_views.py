"""What a doctor meets of the status programmes: the programmes, where they stand in each specialty and applying,
their applications with the stages' results, and their statuses. The rules are services.py's; these pages show
its refusals as messages."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Specialty, User, WorkRecord
from accounts.requests import signed_in_user
from accounts.work import REGION_NAMES
from nmo_portal.calendar import today
from nmo_portal.views import refusal_shown

from . import selectors, services
from .access import is_doctor
from .forms import ApplyForm, ConsentForm
from .models import ProgrammeStage, Status, StatusApplication, StatusProgramme


def _programme(slug: str) -> StatusProgramme:
    """Any programme by its key, closed ones too (a holder renews from its page), with specialties and stages."""
    found = StatusProgramme.objects.prefetch_related(
        Prefetch("specialties", queryset=Specialty.objects.order_by("code")),
        Prefetch("stages", queryset=ProgrammeStage.objects.order_by("position")),
    )
    return get_object_or_404(found, slug=slug)


@dataclass
class Standing:
    """Where a doctor stands in one specialty of a programme: what is missing, what is open or held."""

    specialty: Specialty
    gaps: list[selectors.Gap]
    open_application: StatusApplication | None
    held: Status | None
    form: ApplyForm = field(init=False)

    def __post_init__(self) -> None:
        # one form per specialty on the page: the same field names, ids of their own
        self.form = ApplyForm(initial={"specialty": self.specialty.code}, auto_id=f"id_s{self.specialty.pk}_%s")

    @property
    def eligible(self) -> bool:
        return not self.gaps

    @property
    def renewal_open(self) -> bool:
        return self.held is not None and today() >= self.held.renewal_opens_on()

    @property
    def can_apply(self) -> bool:
        return self.eligible and self.open_application is None and (self.held is None or self.renewal_open)


def _standings(doctor: User, programme: StatusProgramme, day: date) -> list[Standing]:
    """The programme's specialties that are the doctor's (their profile or their work history)."""
    mine = set(Specialty.objects.filter(doctors__user=doctor).values_list("pk", flat=True))
    mine |= set(WorkRecord.objects.filter(doctor=doctor).values_list("specialty_id", flat=True))
    specialties = [s for s in programme.specialties.all() if s.pk in mine]
    if not specialties:
        return []
    open_ones = {
        a.specialty_id: a
        for a in StatusApplication.objects.filter(
            doctor=doctor, programme=programme, state=StatusApplication.State.OPEN
        )
    }
    held = {
        s.specialty_id: s
        for s in Status.objects.valid_on(day)
        .filter(doctor=doctor, programme=programme)
        .select_related("programme")
        .order_by("expires_on")  # the newest last: after a renewal it is the one held
    }
    return [
        Standing(
            specialty=specialty,
            gaps=selectors.eligibility(doctor=doctor, programme=programme, specialty=specialty, day=day),
            open_application=open_ones.get(specialty.pk),
            held=held.get(specialty.pk),
        )
        for specialty in specialties
    ]


@require_GET
def programme_list(request: HttpRequest) -> HttpResponse:
    """The programmes that accept applications, for anyone: who awards, where, what it takes and brings."""
    return render(request, "statuses/programme_list.html", {"programmes": selectors.programmes()})


@require_GET
def programme_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The programme; for a signed-in doctor, per specialty of theirs: eligible or what is missing, and applying."""
    programme = _programme(slug)
    doctor = request.user if isinstance(request.user, User) and is_doctor(request.user) else None
    context: dict[str, Any] = {
        "programme": programme,
        "is_doctor": doctor is not None,
        "standings": _standings(doctor, programme, today()) if doctor is not None else [],
    }
    return render(request, "statuses/programme_detail.html", context)


@login_required
@require_POST
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    """«Подать заявление»: services.application_submit; a refusal is a message on the programme's page."""
    doctor = signed_in_user(request)
    if not is_doctor(doctor):
        raise PermissionDenied
    programme = get_object_or_404(StatusProgramme, slug=slug)
    form = ApplyForm(request.POST)
    specialty = None
    if form.is_valid():
        specialty = Specialty.objects.filter(code=form.cleaned_data["specialty"]).first()
    if specialty is None:
        messages.error(request, _("Choose a specialty of the programme."))
        return redirect("statuses:programme", slug=programme.slug)
    with refusal_shown(request) as refused:
        application = services.application_submit(
            doctor=doctor,
            programme=programme,
            specialty=specialty,
            public_consent=form.cleaned_data["public_consent"],
        )
    if refused:
        return redirect("statuses:programme", slug=programme.slug)
    messages.success(
        request,
        _("Your application is submitted. The commission will set the date and place of each stage."),
    )
    return redirect("statuses:application", pk=application.pk)


@dataclass
class StatusRow:
    status: Status
    state: str
    renewal_open: bool
    consent_form: ConsentForm


def _status_rows(statuses: QuerySet[Status], day: date) -> list[StatusRow]:
    return [
        StatusRow(
            status=status,
            state=status.state_on(day),
            renewal_open=(
                status.state_on(day) == Status.State.VALID
                and not getattr(status, "renewal_pending", False)
                and status.renewal_opens_on() <= day
            ),
            consent_form=ConsentForm(initial={"public": "0" if status.public_consent else "1"}),
        )
        for status in statuses
    ]


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """My applications with their stages, and my statuses with their state, certificate, check page and consent."""
    doctor = signed_in_user(request)
    day = today()
    context = {
        "applications": list(selectors.applications_of(doctor=doctor)),
        "statuses": _status_rows(selectors.statuses_of(doctor=doctor), day),
        "is_doctor": is_doctor(doctor),
    }
    return render(request, "statuses/mine.html", context)


@dataclass
class SnapshotView:
    """The frozen portfolio as the template shows it: its ISO dates read back as dates."""

    taken_on: date | None
    document: dict[str, Any] | None
    practice: dict[str, Any]
    work_history: list[dict[str, Any]]
    items: list[dict[str, Any]]
    total_hours: int


def _read_date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _snapshot(snapshot: dict[str, Any]) -> SnapshotView:
    document = snapshot.get("document")
    if isinstance(document, dict):
        document = {**document, "issued_on": _read_date(document.get("issued_on"))}
        document["expires_on"] = _read_date(document.get("expires_on"))
    practice = snapshot.get("practice") or {}
    work = [
        {
            **record,
            "region_name": REGION_NAMES.get(record.get("region", ""), record.get("region", "")),
            "started_on": _read_date(record.get("started_on")),
            "ended_on": _read_date(record.get("ended_on")),
        }
        for record in snapshot.get("work_history") or []
    ]
    items = [
        {**item, "starts_on": _read_date(item.get("starts_on")), "ends_on": _read_date(item.get("ends_on"))}
        for item in snapshot.get("items") or []
    ]
    return SnapshotView(
        taken_on=_read_date(snapshot.get("taken_on")),
        document=document if isinstance(document, dict) else None,
        practice={**practice, "region_name": REGION_NAMES.get(practice.get("region") or "", "")},
        work_history=work,
        items=items,
        total_hours=int(snapshot.get("total_hours") or 0),
    )


@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """My application: its stages, the portfolio as it was frozen, and withdrawing while it is open."""
    application = get_object_or_404(selectors.applications_of(doctor=signed_in_user(request)), pk=pk)
    context = {"application": application, "snapshot": _snapshot(application.snapshot)}
    return render(request, "statuses/application_detail.html", context)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    doctor = signed_in_user(request)
    application = get_object_or_404(StatusApplication, pk=pk, doctor=doctor)
    with refusal_shown(request) as refused:
        services.application_withdraw(application=application, doctor=doctor)
    if not refused:
        messages.success(request, _("Your application is withdrawn."))
    return redirect("statuses:application", pk=application.pk)


@login_required
@require_POST
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The holder shows or hides their name on the check page and in the public register."""
    doctor = signed_in_user(request)
    status = get_object_or_404(Status, pk=pk, doctor=doctor)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether your name is shown in the public register."))
        return redirect("statuses:mine")
    with refusal_shown(request) as refused:
        status = services.status_consent_set(status=status, doctor=doctor, public=form.cleaned_data["public"])
    if not refused:
        if status.public_consent:
            messages.success(request, _("Your name is shown in the public register while the status is valid."))
        else:
            messages.success(request, _("Your name is no longer shown in the public register."))
    return redirect("statuses:mine")
