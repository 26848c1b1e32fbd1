from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.requests import signed_in_user
from nmo_portal.views import refusal_shown

from . import services
from .forms import LinkForm


@login_required
@require_POST
def link(request: HttpRequest) -> HttpResponse:
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your login at the Ministry portal."))
    else:
        with refusal_shown(request) as refused:
            services.link_request(doctor=signed_in_user(request), login=form.cleaned_data["login"])
        if not refused:
            messages.info(request, _("Linking your Ministry account; this page shows the result."))
    return redirect("learning_plan:plan")


@login_required
@require_POST
def held_records_refresh(request: HttpRequest) -> HttpResponse:
    """«Refresh from the Ministry»: read again the records the Ministry holds, then back to the page asked from."""
    with refusal_shown(request) as refused:
        services.held_records_request(doctor=signed_in_user(request))
    if not refused:
        messages.info(request, _("Reading your records at the Ministry portal; reload the page in a minute."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("learning_plan:plan")
    return redirect(target)
