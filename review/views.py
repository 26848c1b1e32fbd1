"""Pages of the review workflow: the provider's activity pages (shared by events and modules through the
base views below, which each app subclasses with its model and form), the expert's queue and case page,
and the public catalogue."""

from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from accounts import services as accounts_services
from accounts.models import Membership, Organization, ReviewerAppointment, User
from accounts.requests import require_member_or_staff, signed_in_user
from nmo_portal.paging import capped_page
from nmo_portal.views import refusal_shown

from . import kinds, selectors, services
from .forms import CatalogFilterForm, DecisionForm, ExpertAppointForm, HandOverForm
from .models import SUBMITTABLE, Activity, Status


def _member_organization(request: HttpRequest, organization_id: int) -> tuple[Organization, Membership | None]:
    organization = get_object_or_404(Organization, pk=organization_id)
    return organization, require_member_or_staff(request, organization)


@method_decorator(login_required, name="dispatch")
class ProviderActivityView(View):
    """Base of the provider's pages for one kind of activity; subclasses set model, form_class, kind."""

    model: ClassVar[type[Activity]]
    form_class: ClassVar[type[ModelForm[Any]]]
    kind: ClassVar[str]

    def get_activity(self, request: HttpRequest, pk: int) -> tuple[Activity, Membership | None]:
        """Members of the owning organization see it, staff see any; everyone else gets a 404."""
        activity = get_object_or_404(self.model.objects.select_related("organization", "reviewer"), pk=pk)
        _organization, membership = _member_organization(request, activity.organization_id)
        return activity, membership

    def template(self, name: str) -> str:
        return f"{self.kind}s/{self.kind}_{name}.html"


class ActivityDetailView(ProviderActivityView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity, membership = self.get_activity(request, pk)
        context = {
            "activity": activity,
            "membership": membership,
            "timeline": selectors.activity_timeline(activity),
            "changes_requested": selectors.changes_requested(activity),
            "problems": services.submission_problems(activity) if activity.status in SUBMITTABLE else [],
            "can_act": membership is not None and activity.organization.is_verified,
        }
        return render(request, self.template("detail"), context)


class ActivityFormView(ProviderActivityView):
    """Create (organization_id given) or edit (pk given) a draft."""

    def _setup(
        self, request: HttpRequest, organization_id: int | None, pk: int | None
    ) -> tuple[Activity, Organization]:
        if pk is not None:
            activity, membership = self.get_activity(request, pk)
            organization = activity.organization
        else:
            assert organization_id is not None  # noqa: S101 - the URL gives one or the other
            organization, membership = _member_organization(request, organization_id)
            activity = self.model(organization=organization)
        if membership is None:
            raise DjangoPermissionDenied  # staff may look, but only members write
        return activity, organization

    def _render(
        self,
        request: HttpRequest,
        form: ModelForm[Any],
        activity: Activity,
        organization: Organization,
        status: int = 200,
    ) -> HttpResponse:
        context = {"form": form, "activity": activity, "organization": organization, "creating": activity.pk is None}
        return render(request, self.template("form"), context, status=status)

    def get(self, request: HttpRequest, organization_id: int | None = None, pk: int | None = None) -> HttpResponse:
        activity, organization = self._setup(request, organization_id, pk)
        if not organization.is_verified:
            messages.error(request, _("The organization has not been verified yet, so it cannot register activities."))
        elif activity.pk and not activity.is_editable:
            messages.error(
                request,
                _("This activity cannot be edited while it is «%(status)s».")
                % {"status": activity.get_status_display()},
            )
            return redirect(f"{self.kind}s:detail", pk=activity.pk)
        return self._render(request, self.form_class(instance=activity), activity, organization)

    def post(self, request: HttpRequest, organization_id: int | None = None, pk: int | None = None) -> HttpResponse:
        activity, organization = self._setup(request, organization_id, pk)
        creating = activity.pk is None
        form = self.form_class(request.POST, instance=activity)
        if form.is_valid():
            try:
                with refusal_shown(request, form=form) as refused:
                    saved = services.activity_save(
                        activity=form.save(commit=False),
                        actor=signed_in_user(request),
                        specialties=form.cleaned_data["specialties"],
                        creating=creating,
                    )
            except ValidationError as exc:  # the model's own checks, shown on the form as well
                form.add_error(None, exc)
            else:
                if not refused:
                    messages.success(request, _("Saved as a draft. Submit it for review when it is ready."))
                    return redirect(f"{self.kind}s:detail", pk=saved.pk)
        return self._render(request, form, activity, organization, status=400)


class ActivityActionView(ProviderActivityView):
    """POST-only submit and withdraw."""

    action: ClassVar[str]
    success_message: ClassVar[str]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity, membership = self.get_activity(request, pk)
        if membership is None:
            raise DjangoPermissionDenied
        action = services.activity_submit if self.action == "submit" else services.activity_withdraw
        with refusal_shown(request) as refused:
            activity = action(activity=activity, actor=signed_in_user(request))
        if not refused:
            if activity.status == Status.SUBMITTED:
                messages.warning(
                    request,
                    _("Submitted. No expert is appointed for these specialties yet; an administrator will assign one."),
                )
            else:
                messages.success(request, _(self.success_message))
        return redirect(f"{self.kind}s:detail", pk=pk)


CATALOG_PAGE_SIZE = 20


def catalog(
    request: HttpRequest,
    *,
    kind: str,
    form: CatalogFilterForm,
    queryset: QuerySet[Any],
) -> HttpResponse:
    """The public catalogue of approved activities of one kind: counted up to a thousand (nmo_portal.paging)."""
    page = capped_page(queryset, request.GET.get("page"), per_page=CATALOG_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "kind": kind, "query": query.urlencode()}
    return render(request, f"{kind}s/{kind}_catalog.html", context)


@cache_control(public=True, max_age=300)
def catalog_providers(request: HttpRequest) -> JsonResponse:
    """Suggestions for the catalogue's provider filter: the names of the first providers whose name contains `q`."""
    found = selectors.providers_containing(request.GET.get("q", "")[:300], limit=selectors.PROVIDER_SUGGESTIONS)
    names = [{"name": name, "short_name": short_name} for _pk, name, short_name in found]
    return JsonResponse({"providers": names}, json_dumps_params={"ensure_ascii": False})


def catalog_detail(request: HttpRequest, *, kind: str, pk: int) -> HttpResponse:
    activity = get_object_or_404(
        kinds.get(kind).model.objects.approved().select_related("organization").prefetch_related("specialties"), pk=pk
    )
    return render(request, f"{kind}s/{kind}_catalog_detail.html", {"activity": activity})


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not user.reviewer_appointments.filter(is_active=True).exists():
        raise DjangoPermissionDenied
    context = {
        "cases": selectors.reviewer_queue(reviewer=user),
        "decided": selectors.reviewer_decided(reviewer=user),
        "appointments": user.reviewer_appointments.filter(is_active=True).select_related("specialty"),
    }
    return render(request, "review/queue.html", context)


@login_required
def case(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The expert's page of one case: the content, the timeline and the decision form."""
    if not kinds.exists(kind):
        raise Http404
    user = signed_in_user(request)
    activity = get_object_or_404(kinds.get(kind).model.objects.select_related("organization", "reviewer"), pk=pk)
    if activity.reviewer_id != user.pk and not user.is_staff:
        raise Http404
    form = DecisionForm(request.POST or None, initial={"credits": activity.credits_requested})
    if request.method == "POST":
        if activity.reviewer_id != user.pk:
            raise DjangoPermissionDenied
        if form.is_valid():
            with refusal_shown(request, form=form) as refused:
                services.review_decide(
                    activity=activity,
                    actor=user,
                    decision=form.cleaned_data["decision"],
                    credits=form.cleaned_data["credits"],
                    comment=form.cleaned_data["comment"],
                )
            if not refused:
                messages.success(request, _("Decision saved; the provider has been notified."))
                return redirect("review:queue")
    context = {
        "activity": activity,
        "kind": kind,
        "form": form,
        "timeline": selectors.activity_timeline(activity),
        "can_decide": activity.reviewer_id == user.pk and activity.status == Status.IN_REVIEW,
    }
    return render(request, "review/case.html", context, status=400 if form.errors else 200)


@login_required
def organization_activities(request: HttpRequest, organization_id: int) -> HttpResponse:
    organization, membership = _member_organization(request, organization_id)
    context = {
        "organization": organization,
        "membership": membership,
        "activities": selectors.organization_activities(organization=organization),
    }
    return render(request, "review/organization_activities.html", context)


# A professional society's experts -------------------------------------------------------------------------------


def _society(request: HttpRequest, organization_id: int) -> tuple[Organization, Membership | None]:
    """A society's pages: its members see them, portal staff too; anyone else, and an organization that is not a
    society, gets a 404."""
    organization, membership = _member_organization(request, organization_id)
    if organization.kind != Organization.Kind.SOCIETY:
        raise Http404
    return organization, membership


def _society_manager(request: HttpRequest, society: Organization, membership: Membership | None) -> User:
    """Who may post the society's forms: its administrators and portal staff (the services check the rest)."""
    user = signed_in_user(request)
    if not user.is_staff and (membership is None or not membership.is_admin):
        raise DjangoPermissionDenied
    return user


def _society_experts_page(
    request: HttpRequest,
    society: Organization,
    membership: Membership | None,
    *,
    appoint_form: ExpertAppointForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    context = {
        "organization": society,
        "membership": membership,
        "can_manage": user.is_staff or (membership is not None and membership.is_admin and society.is_verified),
        "specialties": selectors.society_experts(society=society),
        "appoint_form": appoint_form or ExpertAppointForm(society=society),
    }
    return render(request, "review/society_experts.html", context, status=status)


def _society_experts_url(society: Organization) -> str:
    return reverse("review:society_experts", args=[society.pk])


@login_required
def society_experts(request: HttpRequest, organization_id: int) -> HttpResponse:
    """The society's experts by specialty, with their queues and review times; its administrators appoint,
    retire and hand cases over here."""
    society, membership = _society(request, organization_id)
    return _society_experts_page(request, society, membership)


@login_required
@require_POST
def society_expert_appoint(request: HttpRequest, organization_id: int) -> HttpResponse:
    society, membership = _society(request, organization_id)
    user = _society_manager(request, society, membership)
    form = ExpertAppointForm(request.POST, society=society)
    if form.is_valid() and form.expert is not None:
        with refusal_shown(request, form=form) as refused:
            appointments = accounts_services.society_expert_appoint(
                society=society, user=form.expert, specialties=form.cleaned_data["specialties"], actor=user
            )
        if not refused:
            messages.success(
                request,
                _("%(expert)s is now an expert of %(codes)s.")
                % {"expert": form.expert, "codes": ", ".join(a.specialty.code for a in appointments)},
            )
            return redirect(_society_experts_url(society))
    return _society_experts_page(request, society, membership, appoint_form=form, status=400)


def _society_appointment(society: Organization, appointment_id: int) -> ReviewerAppointment:
    """An appointment of one of the society's specialties; another society's expert is a 404."""
    return get_object_or_404(
        ReviewerAppointment.objects.select_related("user", "specialty"),
        pk=appointment_id,
        specialty__in=society.specialties.all(),
    )


@login_required
@require_POST
def society_expert_retire(request: HttpRequest, organization_id: int, appointment_id: int) -> HttpResponse:
    society, membership = _society(request, organization_id)
    user = _society_manager(request, society, membership)
    appointment = _society_appointment(society, appointment_id)
    with refusal_shown(request, forbidden_page=True) as refused:
        accounts_services.society_expert_retire(society=society, appointment=appointment, actor=user)
    if not refused:
        messages.success(
            request,
            _("%(expert)s is retired from %(specialty)s. Open cases stay with them until you hand them over.")
            % {"expert": appointment.user, "specialty": appointment.specialty.code},
        )
    return redirect(_society_experts_url(society))


@login_required
@require_POST
def society_cases_hand_over(request: HttpRequest, organization_id: int, appointment_id: int) -> HttpResponse:
    """Hand the open cases of the appointment's expert, in its specialty, to another active expert of it."""
    society, membership = _society(request, organization_id)
    user = _society_manager(request, society, membership)
    appointment = _society_appointment(society, appointment_id)
    experts = list(
        User.objects.filter(
            is_active=True,
            reviewer_appointments__specialty=appointment.specialty,
            reviewer_appointments__is_active=True,
        ).exclude(pk=appointment.user_id)
    )
    form = HandOverForm(request.POST, experts=experts)
    if not form.is_valid():
        messages.error(
            request,
            _("Choose one of the active experts of %(specialty)s.") % {"specialty": appointment.specialty.code},
        )
        return _society_experts_page(request, society, membership, status=400)
    with refusal_shown(request) as refused:
        result = services.review_cases_hand_over(
            society=society,
            from_user=appointment.user,
            to_user=form.expert(),
            specialty=appointment.specialty,
            actor=user,
        )
    if not refused:
        messages.success(
            request,
            ngettext(
                "%(count)d case handed over to %(expert)s.",
                "%(count)d cases handed over to %(expert)s.",
                result.moved,
            )
            % {"count": result.moved, "expert": form.expert()},
        )
        if result.left:
            messages.warning(
                request,
                ngettext(
                    "%(count)d case stays: %(expert)s is a member of its provider. Choose another expert for it.",
                    "%(count)d cases stay: %(expert)s is a member of their providers. Choose another expert for them.",
                    result.left,
                )
                % {"count": result.left, "expert": form.expert()},
            )
    return redirect(_society_experts_url(society))
