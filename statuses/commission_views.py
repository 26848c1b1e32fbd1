"""Placeholder: replaced by the pages of this part."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def queue(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def application(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def stage_schedule(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def stage_result(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def decide(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
