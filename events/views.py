from typing import Any, ClassVar

from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_noop

from review import views as review_views
from review.models import Activity

from . import selectors
from .forms import EventFilterForm, EventForm
from .models import Event


class EventMixin:
    model: ClassVar[type[Activity]] = Event
    form_class: ClassVar[type[ModelForm[Any]]] = EventForm
    kind: ClassVar[str] = "event"


class EventDetailView(EventMixin, review_views.ActivityDetailView):
    pass


class EventFormView(EventMixin, review_views.ActivityFormView):
    pass


class EventSubmitView(EventMixin, review_views.ActivityActionView):
    action = "submit"
    success_message = gettext_noop("Submitted for expert review.")


class EventWithdrawView(EventMixin, review_views.ActivityActionView):
    action = "withdraw"
    success_message = gettext_noop("Withdrawn from review. You can edit it and submit it again.")


def catalog(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    return review_views.catalog(request, kind="event", form=form, queryset=selectors.catalog_events(form.filters()))


def catalog_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return review_views.catalog_detail(request, kind="event", pk=pk)
