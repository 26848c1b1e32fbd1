"""Placeholder: replaced by the pages of this part."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def register(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def certificate(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
