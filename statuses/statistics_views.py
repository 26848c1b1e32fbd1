"""Placeholder: replaced by the pages of this part."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def statistics(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def statistics_csv(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
