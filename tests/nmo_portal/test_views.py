"""refusal_shown: how every page shows a service's refusal (a flash message, a form error, or the 403 page)."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.test import RequestFactory

from nmo_portal.errors import PermissionDenied, PortalError
from nmo_portal.views import refusal_shown


class NameForm(forms.Form):
    name = forms.CharField()


def page_request():
    request = RequestFactory().post("/")
    request._messages = CookieStorage(request)
    return request


def test_without_a_form_the_refusal_is_a_flash_message_and_the_block_is_marked_refused():
    request = page_request()
    with refusal_shown(request) as refused:
        raise PortalError("Нельзя.", code="no")
    assert refused
    assert refused.error is not None
    assert refused.error.code == "no"
    assert [(m.level_tag, m.message) for m in get_messages(request)] == [("error", "Нельзя.")]


def test_a_block_that_runs_through_is_not_refused_and_shows_nothing():
    request = page_request()
    with refusal_shown(request) as refused:
        pass
    assert not refused
    assert list(get_messages(request)) == []


def test_with_a_form_the_refusal_is_a_form_error_on_the_field_named_for_it_and_no_message():
    request = page_request()
    form = NameForm({"name": "x"})
    assert form.is_valid()
    with refusal_shown(request, form=form, field=lambda exc: "name" if exc.code == "taken" else None) as refused:
        raise PortalError("Занято.", code="taken")
    assert refused
    assert form.errors == {"name": ["Занято."]}
    with refusal_shown(request, form=form, field=lambda exc: "name" if exc.code == "taken" else None):
        raise PortalError("Иначе.", code="other")
    assert form.non_field_errors() == ["Иначе."]
    assert list(get_messages(request)) == []


def test_forbidden_page_turns_only_a_403_refusal_into_the_403_page():
    request = page_request()
    with pytest.raises(DjangoPermissionDenied), refusal_shown(request, forbidden_page=True):
        raise PermissionDenied("Не ваше.")
    with refusal_shown(request, forbidden_page=True) as refused:
        raise PortalError("Последний администратор.", code="last_admin")
    assert refused
    assert [m.message for m in get_messages(request)] == ["Последний администратор."]


def test_other_exceptions_pass_through():
    with pytest.raises(ValueError, match="not a refusal"), refusal_shown(page_request()):
        raise ValueError("not a refusal")


def test_favicon_ico_leads_to_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")  # the file the redirect names (whitenoise serves it)
