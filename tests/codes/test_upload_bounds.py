"""Uploads are bounded before they are parsed: hostile files (built here, never committed) get a 400 with what is
wrong, and nothing is issued or recorded. `bench/uploads.py` measures the memory and time of the same files."""

import json

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from codes.attendees import read_attendees
from codes.models import IcpCode
from modules.models import ModuleCompletion
from nmo_portal import spreadsheets

from .. import bombs
from ..factories import EventFactory, MembershipFactory, ModuleFactory, moscow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    """The assertions read the English messages; the pages are Russian unless the person chose English."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def event(psychiatry):
    return EventFactory(
        organization=MembershipFactory().organization, approved=True, starts_at=moscow(-3, 9), ends_at=moscow(-3, 18)
    )


@pytest.fixture
def provider_client(client, event):
    client.force_login(event.organization.memberships.get().user)
    return client


def upload(client, event, content: bytes, name: str):
    return client.post(reverse("codes:issue_file", args=[event.pk]), {"file": SimpleUploadedFile(name, content)})


def plain(text: str | None) -> str:
    """Spaces as typed: file sizes are written with a no-break space."""
    return " ".join((text or "").split())


def page_text(response) -> str:
    return plain(response.content.decode())


HOSTILE = {
    "sheet bomb (40 MB of rows packed small)": (
        bombs.sheet_bomb,
        "attendees.xlsx",
        "This workbook is not built as spreadsheet programs save one.",
    ),
    "shared strings bomb (40 MB)": (
        bombs.shared_strings_bomb,
        "attendees.xlsx",
        "This workbook is not built as spreadsheet programs save one.",
    ),
    "a million empty rows": (bombs.far_rows, "attendees.xlsx", "The file has more than 100000 rows."),
    "16384 columns": (bombs.wide_row, "attendees.xlsx", "Row 2 has more than 100 columns."),
    "a cell of 20000 characters": (
        bombs.long_cell,
        "attendees.xlsx",
        "Row 2, column 1: the cell is longer than 10000 characters.",
    ),
    "a CSV with a NUL byte": (bombs.csv_with_nul, "attendees.csv", "This file is not a CSV text file."),
    "an upload over 10 MB": (
        lambda: bombs.oversized_csv(megabytes=10),
        "attendees.csv",
        "The file is larger than 10.0 MB.",
    ),
}


@pytest.mark.parametrize(("build", "name", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_attendee_list_gets_a_400_with_its_message_and_issues_nothing(
    provider_client, event, build, name, message
):
    response = upload(provider_client, event, build(), name)

    assert response.status_code == 400
    assert message in page_text(response)
    assert not IcpCode.objects.exists()


@pytest.mark.parametrize(("build", "name", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_completion_report_gets_a_400_with_its_message_and_records_nothing(
    client, psychiatry, build, name, message
):
    membership = MembershipFactory()
    module = ModuleFactory(organization=membership.organization, approved=True, specialties=[psychiatry])
    client.force_login(membership.user)

    response = client.post(
        reverse("modules:completions", args=[module.pk]),
        {"file": SimpleUploadedFile(name.replace("attendees", "report"), build())},
    )

    assert response.status_code == 400
    assert message in page_text(response)
    assert not ModuleCompletion.objects.exists()


def test_shared_strings_past_the_part_limit_are_refused_before_openpyxl_reads_them(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_COMPRESSION_RATIO", 1_000_000)  # the size alone decides here

    result = read_attendees(bombs.shared_strings_bomb(megabytes=12), "attendees.xlsx")

    assert plain(result.file_error) == (
        "A part of this workbook (xl/sharedStrings.xml) unpacks to more than 8.0 MB. "
        "Save the list alone in a new workbook or as CSV."
    )


def test_styles_past_the_part_limit_are_refused_before_openpyxl_reads_them(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_COMPRESSION_RATIO", 1_000_000)

    result = read_attendees(bombs.styles_bomb(megabytes=12), "attendees.xlsx")

    assert "(xl/styles.xml) unpacks to more than 8.0 MB" in plain(result.file_error)


def test_shared_strings_under_a_worksheet_name_are_held_to_the_part_limit(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_COMPRESSION_RATIO", 1_000_000)

    result = read_attendees(bombs.hidden_shared_strings_bomb(megabytes=12), "attendees.xlsx")

    assert "(xl/worksheets/sheet2.xml) unpacks to more than 8.0 MB" in plain(result.file_error)


def test_a_workbook_over_the_unpacked_total_is_refused(settings):
    settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 64 * 1024
    workbook = Workbook()
    workbook.active.append(["ФИО", "email"])
    for number in range(2_000):
        workbook.active.append([f"Участник {number}", f"p{number}@example.org"])
    data = spreadsheets_bytes(workbook)

    result = read_attendees(data, "attendees.xlsx")

    assert plain(result.file_error) == (
        "This workbook unpacks to more than 64.0 KB. Save the list alone in a new workbook or as CSV."
    )


def test_a_list_within_the_bounds_with_formatted_empty_columns_is_still_read():
    """Empty cells far right (a formatted column) do not count as columns."""
    far = "".join(f'<c r="{column}2" s="1"/>' for column in ("CZ", "ZZ", "XFD"))
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>Иванов Иван</t></is></c>'
        f'<c r="B2" t="inlineStr"><is><t>ivanov@example.org</t></is></c>{far}</row>'
    )
    header = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>ФИО</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>email</t></is></c></row>'
    )

    result = read_attendees(bombs.workbook([header, row]), "attendees.xlsx")

    assert result.ok, result
    assert [attendee.email for attendee in result.attendees] == ["ivanov@example.org"]


def test_the_api_refuses_more_attendees_than_one_request_may_carry(event, settings):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(event.organization.memberships.get().user)
    attendees = [
        {"full_name": "a", "email": f"{n}@example.org"} for n in range(settings.ICP_MAX_ATTENDEES_PER_REQUEST + 1)
    ]

    response = api.post(f"/api/v1/events/{event.pk}/codes/", {"attendees": attendees}, format="json")

    assert response.status_code == 400
    assert "no more than 50000 elements" in response.json()["error"]["message"]
    assert not IcpCode.objects.exists()


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(client, event, settings):
    settings.REQUEST_MAX_BYTES = 1024
    client.force_login(event.organization.memberships.get().user)

    response = client.post(
        f"/api/v1/events/{event.pk}/codes/",
        json.dumps({"attendees": [{"full_name": "x" * 2000, "email": "a@example.org"}]}),
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert not IcpCode.objects.exists()


def spreadsheets_bytes(workbook) -> bytes:
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_bounded_upload_takes_other_kinds_for_later_uploads_and_refuses_a_renamed_file(settings):
    """`upload_bytes` is the door later uploads (the portfolio's scans) go through: size first, then the kind."""
    from io import BytesIO

    from nmo_portal.spreadsheets import FileError, upload_bytes

    scan = b"%PDF-1.7\n" + b"0" * 100
    assert upload_bytes(BytesIO(scan), name="diploma.pdf", size=len(scan), accept=("pdf", "jpeg", "png")) == scan

    with pytest.raises(FileError) as renamed:
        upload_bytes(BytesIO(b"\x89PNG\r\n\x1a\n..."), name="diploma.pdf", size=11, accept=("pdf", "png"))
    assert renamed.value.message == "The content of this file is not what its name says (.pdf)."

    settings.UPLOAD_MAX_BYTES = 50
    with pytest.raises(FileError) as large:
        upload_bytes(BytesIO(scan), name="diploma.pdf", size=None, accept=("pdf",))  # no declared size: counted
    assert plain(large.value.message) == "The file is larger than 50 bytes."


def test_a_refused_list_is_explained_in_russian_by_default(client, event):
    client.cookies.pop(django_settings.LANGUAGE_COOKIE_NAME, None)
    client.force_login(event.organization.memberships.get().user)

    response = upload(client, event, bombs.wide_row(), "attendees.xlsx")

    assert response.status_code == 400
    assert "В строке 2 больше 100 столбцов. Оставьте только столбцы списка." in page_text(response)
    assert not IcpCode.objects.exists()


def test_an_upload_over_the_request_limit_gets_a_page_that_says_why_in_both_languages_and_leads_back(
    client, event, settings
):
    settings.REQUEST_MAX_BYTES = 1024
    settings.UPLOAD_MAX_BYTES = 512
    client.force_login(event.organization.memberships.get().user)
    codes_page = f"http://testserver/provider/events/{event.pk}/codes/"

    response = client.post(
        reverse("codes:issue_file", args=[event.pk]),
        {"file": SimpleUploadedFile("list.csv", b"x" * 4096, content_type="text/csv")},
        HTTP_REFERER=codes_page,
    )

    page = response.content.decode().replace("\xa0", " ")  # sizes are written with no-break spaces
    assert response.status_code == 413
    assert "<html" in page
    assert "Запрос больше 1,0 КБ: файлы принимаются размером до 512 байт" in page
    assert "The request is larger than 1.0 KB: files are accepted up to 512 bytes." in page
    assert f'href="{codes_page}"' in page
    assert not IcpCode.objects.exists()
