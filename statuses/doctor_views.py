"""Placeholder: replaced by the pages of this part."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def programme_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def programme_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def apply(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def mine(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def application_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def withdraw(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def consent(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
