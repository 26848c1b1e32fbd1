from typing import Any, ClassVar

from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_noop

from review import selectors
from review import views as review_views
from review.forms import CatalogFilterForm
from review.models import Activity

from .forms import ModuleForm
from .models import Module


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
