from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
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
