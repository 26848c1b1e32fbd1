from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from nmo_portal.errors import PortalError
from nmo_portal.views import refusal_shown

from . import selectors, services
from .forms import ApiKeyForm, DoctorProfileForm, InvitationForm, OrganizationForm, WorkRecordForm
from .models import Invitation, Membership, Organization, OrganizationApiKey, User, WorkRecord
from .requests import require_member_or_staff


def _user(request: HttpRequest) -> User:
    """The signed-in user; every view that calls this is behind login_required."""
    if not isinstance(request.user, User):
        raise DjangoPermissionDenied
    return request.user


def _snils_field(exc: PortalError) -> str | None:
    return "snils" if exc.code.startswith("snils") else None


def _inn_field(exc: PortalError) -> str | None:
    return "inn" if exc.code == "inn_taken" else None


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    doctor = selectors.doctor_profile_get(user=user)
    initial = {
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "snils": doctor.snils_display if doctor else "",
        "specialties": list(doctor.specialties.all()) if doctor else [],
        "language": user.language,
        "timezone_name": user.timezone,
        "accreditation_reminders": doctor.accreditation_reminders if doctor else True,
    }
    form = DoctorProfileForm(request.POST or None, initial=initial)
    if doctor is not None and doctor.snils_confirmed_at is not None:
        # confirmed by the Ministry link: the service refuses a change, so the page does not offer one
        form.fields["snils"].disabled = True
        form.fields["snils"].help_text = _("Confirmed by the Ministry portal. If it is wrong, write to support.")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_shown(request, form=form, field=_snils_field) as refused, transaction.atomic():
            services.doctor_profile_update(
                user=user,
                last_name=data["last_name"],
                first_name=data["first_name"],
                middle_name=data["middle_name"],
                snils=data["snils"],
                specialties=data["specialties"],
                language=data["language"],
                timezone_name=data["timezone_name"],
            )
            services.accreditation_reminders_set(user=user, enabled=data["accreditation_reminders"])
        if not refused:
            messages.success(request, _("Profile saved."))
            response = redirect("accounts:profile")
            response.set_cookie("django_language", data["language"], samesite="Lax")
            return response
    records = list(selectors.work_records(doctor=user))
    context = {
        "form": form,
        "doctor": doctor,
        "work_records": records,
        "practice": selectors.practice_by_specialty(records),
    }
    return render(request, "accounts/profile_edit.html", context)


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = selectors.organizations_of_user(user=_user(request))
    return render(request, "accounts/organization_list.html", {"organizations": organizations})


@login_required
def organization_register(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_inn_field) as refused:
            organization = services.organization_register(user=_user(request), **form.cleaned_data)
        if not refused:
            messages.success(
                request,
                _("The organization is registered. Portal administrators will verify it; you will get an e-mail."),
            )
            return redirect("accounts:organization_detail", pk=organization.pk)
    return render(request, "accounts/organization_register.html", {"form": form})


def _organization_for_member(request: HttpRequest, pk: int) -> tuple[Organization, Membership | None]:
    """Members see their organization; staff see any; everyone else gets a 404, not a hint it exists."""
    _user(request)
    try:
        organization = selectors.organization_detail(organization_id=pk)
    except Organization.DoesNotExist as exc:
        raise Http404 from exc
    return organization, require_member_or_staff(request, organization)


def _organization_context(organization: Organization, membership: Membership | None, **extra: Any) -> dict[str, Any]:
    is_admin = membership is not None and membership.is_admin
    context: dict[str, Any] = {
        "organization": organization,
        "membership": membership,
        "is_admin": is_admin,
        "invitation_form": InvitationForm(),
        "api_key_form": ApiKeyForm(),
        # API keys are the administrators' business: only they create, see and revoke them.
        "api_keys": selectors.organization_api_keys(organization=organization) if is_admin else None,
    }
    context.update(extra)
    return context


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization, membership = _organization_for_member(request, pk)
    return render(request, "accounts/organization_detail.html", _organization_context(organization, membership))


@login_required
@require_POST
def invitation_create(request: HttpRequest, pk: int) -> HttpResponse:
    organization, membership = _organization_for_member(request, pk)
    if membership is None or not membership.is_admin:
        raise DjangoPermissionDenied
    form = InvitationForm(request.POST)
    if form.is_valid():
        with refusal_shown(request) as refused:
            services.invitation_create(
                organization=organization,
                actor=_user(request),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        if not refused:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("accounts:organization_detail", pk=organization.pk)
    context = _organization_context(organization, membership, invitation_form=form)
    return render(request, "accounts/organization_detail.html", context, status=400)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    organization, _membership = _organization_for_member(request, pk)
    invitation = get_object_or_404(Invitation, pk=invitation_pk, organization=organization)
    with refusal_shown(request, forbidden_page=True) as refused:
        services.invitation_revoke(invitation=invitation, actor=_user(request))
    if not refused:
        messages.success(request, _("Invitation withdrawn."))
    return redirect("accounts:organization_detail", pk=organization.pk)


@login_required
@require_POST
def membership_remove(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    organization, _membership = _organization_for_member(request, pk)
    target = get_object_or_404(
        Membership.objects.select_related("user", "organization"), pk=membership_pk, organization=organization
    )
    with refusal_shown(request, forbidden_page=True) as refused:
        services.membership_remove(membership=target, actor=_user(request))
    if refused:
        return redirect("accounts:organization_detail", pk=organization.pk)
    messages.success(request, _("%(user)s is no longer a member.") % {"user": target.user})
    if target.user_id == request.user.pk:
        return redirect("accounts:organizations")
    return redirect("accounts:organization_detail", pk=organization.pk)


@never_cache
@login_required
@require_POST
def api_key_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a key and show it in this response only: it is never stored, in the session or anywhere else."""
    organization, membership = _organization_for_member(request, pk)
    if membership is None or not membership.is_admin:
        raise DjangoPermissionDenied
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        with refusal_shown(request, form=form) as refused:
            api_key, key = services.api_key_create(
                organization=organization, actor=_user(request), name=form.cleaned_data["name"]
            )
        if not refused:
            context = _organization_context(organization, membership, new_api_key=api_key, new_api_key_secret=key)
            return render(request, "accounts/organization_detail.html", context)
    context = _organization_context(organization, membership, api_key_form=form)
    return render(request, "accounts/organization_detail.html", context, status=400)


@login_required
@require_POST
def api_key_revoke(request: HttpRequest, pk: int, key_pk: int) -> HttpResponse:
    organization, _membership = _organization_for_member(request, pk)
    api_key = get_object_or_404(
        OrganizationApiKey.objects.select_related("organization"), pk=key_pk, organization=organization
    )
    with refusal_shown(request, forbidden_page=True) as refused:
        services.api_key_revoke(api_key=api_key, actor=_user(request))
    if not refused:
        messages.success(request, _("The API key «%(name)s» no longer works.") % {"name": api_key.name})
    return redirect(f"{reverse('accounts:organization_detail', args=[organization.pk])}#api-keys")


@login_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_by_token(token)
    except PortalError as exc:
        return render(request, "accounts/invitation_accept.html", {"error": exc.message}, status=404)
    if request.method == "POST":
        with refusal_shown(request) as refused:
            services.invitation_accept(token=token, user=_user(request))
        if not refused:
            messages.success(request, _("Welcome to %(organization)s.") % {"organization": invitation.organization})
            return redirect("accounts:organization_detail", pk=invitation.organization_id)
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


# The work history, a part of the profile ------------------------------------------------------------------------


def _work_history_url() -> str:
    return f"{reverse('accounts:profile')}#work-history"


def _work_record_form_page(request: HttpRequest, form: WorkRecordForm, record: WorkRecord | None) -> HttpResponse:
    return render(
        request,
        "accounts/work_record_form.html",
        {"form": form, "record": record},
        status=400 if form.errors else 200,
    )


@login_required
def work_record_add(request: HttpRequest) -> HttpResponse:
    form = WorkRecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with refusal_shown(request, form=form) as refused:
                services.work_record_add(doctor=_user(request), **form.cleaned_data)
        except ValidationError as exc:  # the model's own checks, which the form has run already
            form.add_error(None, exc)
        else:
            if not refused:
                messages.success(request, _("The place of work is added to your work history."))
                return redirect(_work_history_url())
    return _work_record_form_page(request, form, None)


@login_required
def work_record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = get_object_or_404(WorkRecord.objects.select_related("specialty"), pk=pk, doctor=user)
    form = WorkRecordForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            with refusal_shown(request, form=form) as refused:
                services.work_record_update(record=record, doctor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not refused:
                messages.success(request, _("The work history is saved."))
                return redirect(_work_history_url())
    return _work_record_form_page(request, form, record)


@login_required
@require_POST
def work_record_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    record = get_object_or_404(WorkRecord, pk=pk, doctor=user)
    with refusal_shown(request) as refused:
        services.work_record_remove(record=record, doctor=user)
    if not refused:
        messages.success(
            request, _("«%(employer)s» is removed from your work history.") % {"employer": record.employer}
        )
    return redirect(_work_history_url())
