"""Pages of announcements: the society's own (list, new, edit, withdraw), the public ones (list, one announcement),
the doctor's digest setting, and the unsubscribe link of the digest's e-mail."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Organization, Specialty, User
from accounts.requests import signed_in_user
from nmo_portal.views import refusal_shown

from . import digest, selectors, services
from .forms import AnnouncementForm, DigestForm
from .models import Announcement

PAGE_SIZE = 20


def _society_for_staff(request: HttpRequest, society_id: int) -> Organization:
    """The society whose announcements the signed-in person manages: its members and portal administrators; to
    anyone else, and for an organization that is not a society, there is nothing here (404)."""
    society = Organization.objects.filter(pk=society_id).first()
    if society is None or not services.is_society_staff(society=society, user=signed_in_user(request)):
        raise Http404
    return society


def _posted(request: HttpRequest) -> Any:
    """The form's data on a POST (an empty one too: an unticked box sends nothing), None otherwise."""
    return request.POST if request.method == "POST" else None


def _announcement_of(society: Organization, pk: int) -> Announcement:
    """Only the society's own: another society's announcement is not found here."""
    return get_object_or_404(Announcement.objects.prefetch_related("specialties"), pk=pk, society=society)


@login_required
def society_announcements(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    context = {
        "society": society,
        "announcements": selectors.society_announcements(society=society),
        "specialties": society.specialties.order_by("code"),
    }
    return render(request, "societies/society_announcements.html", context)


def _form_page(
    request: HttpRequest, society: Organization, form: AnnouncementForm, announcement: Announcement | None
) -> HttpResponse:
    context = {"society": society, "form": form, "announcement": announcement}
    return render(request, "societies/announcement_form.html", context, status=400 if form.errors else 200)


def _field_of(exc: Any) -> str | None:
    return AnnouncementForm.FIELDS_OF_CODES.get(exc.code)


@login_required
def announcement_new(request: HttpRequest, society_id: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    form = AnnouncementForm(_posted(request), society=society)
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_field_of) as refused:
            announcement = services.announcement_publish(
                society=society, actor=signed_in_user(request), **form.cleaned_data
            )
        if not refused:
            if announcement.is_scheduled:
                messages.success(request, _("The announcement is scheduled."))
            else:
                messages.success(request, _("The announcement is published."))
            return redirect("societies:society_announcements", society_id=society.pk)
    return _form_page(request, society, form, None)


@login_required
def announcement_edit(request: HttpRequest, society_id: int, pk: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    announcement = _announcement_of(society, pk)
    form = AnnouncementForm(_posted(request), society=society, initial=AnnouncementForm.initial_of(announcement))
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form, field=_field_of) as refused:
            services.announcement_edit(announcement=announcement, actor=signed_in_user(request), **form.cleaned_data)
        if not refused:
            messages.success(request, _("The announcement is saved."))
            return redirect("societies:society_announcements", society_id=society.pk)
    return _form_page(request, society, form, announcement)


@login_required
@require_POST
def announcement_withdraw(request: HttpRequest, society_id: int, pk: int) -> HttpResponse:
    society = _society_for_staff(request, society_id)
    announcement = _announcement_of(society, pk)
    with refusal_shown(request) as refused:
        services.announcement_withdraw(announcement=announcement, actor=signed_in_user(request))
    if not refused:
        messages.success(request, _("The announcement is withdrawn."))
    return redirect("societies:society_announcements", society_id=society.pk)


def announcement_list(request: HttpRequest) -> HttpResponse:
    """Everyone's list of published announcements, of one specialty if asked."""
    code = request.GET.get("specialty", "")
    specialty = Specialty.objects.filter(code=code).first() if code and len(code) <= 16 else None
    page = Paginator(selectors.public_announcements(specialty=specialty), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "specialty": specialty,
        "specialties": Specialty.objects.filter(is_active=True, announcements__isnull=False)
        .distinct()
        .order_by("code"),
        "query": urlencode({"specialty": specialty.code}) if specialty else "",
    }
    return render(request, "societies/announcement_list.html", context)


def announcement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    announcement = selectors.announcement_for_reader(pk=pk, user=request.user)
    if announcement is None:
        raise Http404
    user = request.user
    manages = isinstance(user, User) and services.is_society_staff(society=announcement.society, user=user)
    return render(request, "societies/announcement_detail.html", {"announcement": announcement, "manages": manages})


@login_required
def digest_settings(request: HttpRequest) -> HttpResponse:
    """The doctor's opt-in to the weekly digest, on a page of its own (the profile belongs to a lower layer)."""
    user = signed_in_user(request)
    form = DigestForm(_posted(request), initial={"subscribed": selectors.is_subscribed(user)})
    if request.method == "POST" and form.is_valid():
        with refusal_shown(request, form=form) as refused:
            if form.cleaned_data["subscribed"]:
                services.digest_subscribe(doctor=user)
            else:
                services.digest_unsubscribe(doctor=user, actor=user, via="page")
        if not refused:
            if form.cleaned_data["subscribed"]:
                messages.success(request, _("You will get the weekly digest on Mondays."))
            else:
                messages.success(request, _("You will no longer get the weekly digest."))
            return redirect("societies:digest")
    context = {"form": form, "specialties": selectors.doctor_specialties(user)}
    return render(request, "societies/digest_settings.html", context, status=400 if form.errors else 200)


@csrf_exempt  # the signed link is the authority; a mail program's one-click POST (RFC 8058) carries no CSRF token
def digest_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link: GET asks to confirm with one button, POST unsubscribes (from that button, or from a mail
    program's List-Unsubscribe-Post). It needs no sign-in and acts only for the doctor it was made for; a link
    that is not one changes nothing."""
    doctor_id = digest.doctor_id_of(token)
    doctor = User.objects.filter(pk=doctor_id).first() if doctor_id is not None else None
    if doctor is None:
        return render(request, "societies/digest_unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        services.digest_unsubscribe(doctor=doctor, actor=None, via="link")
        done = True
    context = {
        "doctor": doctor,
        "done": done,
        "subscribed": selectors.is_subscribed(doctor),
        "email": _masked(doctor.email),
    }
    return render(request, "societies/digest_unsubscribe.html", context)


def _masked(email: str) -> str:
    """Enough of the address for its owner to know it, not enough to read it off a forwarded link."""
    name, _at, domain = email.partition("@")
    return f"{name[:1]}…@{domain}" if domain else "…"
