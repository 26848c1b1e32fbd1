"""Every page carries a Content-Security-Policy that allows no inline script, style or framing."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from ..factories import EventFactory, MembershipFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/verify/no-such-token/"])
def test_pages_carry_a_policy_without_inline_scripts(client, url):
    directives = policy(client.get(url))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["base-uri"] == ["'self'"]


def test_signed_in_pages_carry_the_policy(client, doctor):
    client.force_login(doctor)
    response = client.get(reverse("codes:activate"))
    assert response.status_code == 200
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_no_template_has_an_inline_script_handler_or_style_attribute():
    """What the policy would block, so that a page does not break silently in the browser."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []


def test_the_codes_page_loads_its_script_from_a_static_file(client):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    client.force_login(event.organization.memberships.get().user)
    page = client.get(reverse("codes:event_codes", args=[event.pk])).content.decode()
    assert '<script src="/static/js/batch_progress.js" defer></script>' in page
    assert "<script>" not in page


def test_the_api_docs_run_without_inline_script(client, doctor):
    client.force_login(doctor)
    response = client.get(reverse("api:docs"))
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert "<script>" not in response.content.decode()
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
