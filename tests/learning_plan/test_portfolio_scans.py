"""The doctor's scans in the accreditation portfolio: what is accepted (a PDF, a JPEG, a PNG, judged by content),
what is refused before anything is stored (wrong kinds, damaged files, bombs, too large, too many), and who may
see, download and remove them."""

import io
import struct
import zlib
from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from accounts.models import AuditEvent
from learning_plan import scans
from learning_plan.models import Portfolio, PortfolioScan
from learning_plan.services import document_record
from nmo_portal.errors import PortalError

from ..factories import DoctorProfileFactory

pytestmark = pytest.mark.django_db


def png(width=60, height=40, mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width=60, height=40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 180, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def pdf(pages=1, *, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is `width` × `height` pixels: a decompression bomb's calling card."""
    data = bytearray(png(1, 1))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return bytes(data)


def upload(content: bytes, name="scan.pdf", content_type="application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> list[str]:
    storage = storages["private"]
    found = []

    def walk(folder: str) -> None:
        folders, files = storage.listdir(folder)
        found.extend(f"{folder}/{name}".lstrip("/") for name in files)
        for sub in folders:
            walk(f"{folder}/{sub}".lstrip("/"))

    walk("")
    return found


def portfolio_of(user, specialty) -> Portfolio:
    document = document_record(
        doctor=user, specialty=specialty, number="0377180012345", issued_on=date.today() - timedelta(days=4 * 365)
    )
    return document.portfolio


@pytest.fixture
def doctor(psychiatry):
    profile = DoctorProfileFactory(
        user__last_name="Иванова", user__first_name="Мария", user__middle_name="Сергеевна", specialties=[psychiatry]
    )
    return profile.user


@pytest.fixture
def portfolio(doctor, psychiatry):
    return portfolio_of(doctor, psychiatry)


@pytest.fixture
def stranger(psychiatry):
    return DoctorProfileFactory(specialties=[psychiatry]).user


def add(portfolio, content, *, kind="diploma", title="", name="scan.pdf", content_type="application/pdf"):
    return scans.scan_add(
        portfolio=portfolio,
        doctor=portfolio.doctor,
        kind=kind,
        title=title,
        uploaded_file=upload(content, name, content_type),
    )


# Accepted -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(pdf(3), "application/pdf"), (jpeg(), "image/jpeg"), (png(), "image/png")],
    ids=["pdf", "jpeg", "png"],
)
def test_a_pdf_jpeg_or_png_is_kept_in_the_private_storage_with_the_type_its_content_shows(
    portfolio, content, content_type
):
    scan = add(portfolio, content, title="Диплом о высшем образовании")

    assert scan.content_type == content_type
    assert scan.size == len(content)
    assert scan.file.name.startswith("portfolio-scans/")
    with storages["private"].open(scan.file.name, "rb") as file:
        assert file.read() == content
    assert AuditEvent.objects.filter(action="portfolio.scan_add", object_id=str(portfolio.pk)).count() == 1


def test_the_name_and_type_the_browser_sends_are_not_trusted(portfolio):
    scan = add(portfolio, png(), name="../../etc/passwd.pdf", content_type="application/pdf")

    assert scan.content_type == "image/png"
    assert scan.file.name.endswith(".png")
    assert "passwd" not in scan.file.name
    assert ".." not in scan.file.name


def test_without_a_title_the_kind_names_the_scan(portfolio):
    assert add(portfolio, pdf(), kind="work_book", title="  ").title == str(PortfolioScan.Kind.WORK_BOOK.label)


# Refused, and nothing stored --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"GIF89a" + b"\x00" * 100, "scan_type_unsupported"),
        ("Диплом, честное слово".encode(), "scan_type_unsupported"),
        (b"", "scan_type_unsupported"),
        (b"%PDF-1.7\n this is not a PDF at all", "scan_unreadable"),
        (pdf(2)[:200], "scan_unreadable"),
        (png()[:60], "scan_unreadable"),
        (jpeg()[:120], "scan_unreadable"),
        (pdf(password="secret"), "scan_encrypted"),
        (pdf(scans.MAX_PAGES + 1), "scan_too_many_pages"),
        (png_claiming(10_000, 6_000), "scan_too_many_pixels"),
        (png_claiming(60_000, 60_000), "scan_too_many_pixels"),
    ],
    ids=[
        "gif",
        "text",
        "empty",
        "pdf-header-only",
        "truncated-pdf",
        "truncated-png",
        "truncated-jpeg",
        "encrypted-pdf",
        "201-pages",
        "60-megapixels",
        "3600-megapixels",
    ],
)
def test_a_wrong_file_is_refused_with_its_reason_and_nothing_is_stored(portfolio, content, code):
    with pytest.raises(PortalError) as refused:
        add(portfolio, content, name="scan.pdf")

    assert refused.value.code == code
    assert str(refused.value.message)
    assert not PortfolioScan.objects.exists()
    assert stored_files() == []
    assert not AuditEvent.objects.filter(action="portfolio.scan_add").exists()


def test_a_pdf_of_the_most_pages_allowed_is_accepted(portfolio):
    assert add(portfolio, pdf(scans.MAX_PAGES)).content_type == "application/pdf"


def test_a_file_over_the_limit_is_refused_by_its_declared_size_before_it_is_read(portfolio, settings):
    settings.PORTFOLIO_SCAN_MAX_BYTES = 1000

    class Unreadable(io.BytesIO):
        size = 1001

        def read(self, *args):
            raise AssertionError("read although its size is over the limit")

    with pytest.raises(PortalError) as refused:
        scans.scan_add(
            portfolio=portfolio, doctor=portfolio.doctor, kind="diploma", title="", uploaded_file=Unreadable()
        )

    assert refused.value.code == "scan_too_large"
    assert not PortfolioScan.objects.exists()


def test_a_file_over_the_limit_is_refused_by_what_is_read_when_its_size_is_not_said(portfolio, settings):
    settings.PORTFOLIO_SCAN_MAX_BYTES = 1000

    with pytest.raises(PortalError) as refused:
        scans.scan_add(
            portfolio=portfolio,
            doctor=portfolio.doctor,
            kind="diploma",
            title="",
            uploaded_file=io.BytesIO(pdf(1) + b" " * 2000),
        )

    assert refused.value.code == "scan_too_large"
    assert stored_files() == []


@pytest.mark.parametrize("title", ["Диплом\x00", "Д" * 201], ids=["nul", "too-long"])
def test_a_bad_title_is_refused_before_the_file_is_read(portfolio, title):
    with pytest.raises(PortalError) as refused:
        add(portfolio, pdf(), title=title)

    assert refused.value.code == "scan_title_invalid"
    assert stored_files() == []


def test_an_unknown_kind_is_refused(portfolio):
    with pytest.raises(PortalError) as refused:
        add(portfolio, pdf(), kind="passport")

    assert refused.value.code == "scan_kind_unknown"


def test_a_portfolio_holds_at_most_the_scans_the_settings_allow(portfolio, settings):
    settings.PORTFOLIO_MAX_SCANS = 2
    add(portfolio, pdf())
    add(portfolio, jpeg(), kind="work_book")

    with pytest.raises(PortalError) as refused:
        add(portfolio, png(), kind="programme")

    assert refused.value.code == "scan_limit_reached"
    assert portfolio.scans.count() == 2
    assert len(stored_files()) == 2


@pytest.mark.parametrize("filing", [Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED])
def test_a_filed_portfolio_takes_no_scan_and_loses_none(portfolio, filing):
    scan = add(portfolio, pdf())
    Portfolio.objects.filter(pk=portfolio.pk).update(filing=filing, filed_on=date.today())

    with pytest.raises(PortalError) as refused:
        add(portfolio, jpeg())
    assert refused.value.code == "portfolio_filed"
    with pytest.raises(PortalError):
        scans.scan_remove(scan=scan, doctor=portfolio.doctor)

    assert list(portfolio.scans.all()) == [scan]
    assert len(stored_files()) == 1


def test_removing_a_scan_deletes_its_file_once_committed(portfolio, django_capture_on_commit_callbacks):
    scan = add(portfolio, pdf())
    name = scan.file.name

    with django_capture_on_commit_callbacks(execute=True):
        scans.scan_remove(scan=scan, doctor=portfolio.doctor)

    assert not PortfolioScan.objects.exists()
    assert not storages["private"].exists(name)
    assert AuditEvent.objects.filter(action="portfolio.scan_remove").count() == 1


def test_another_doctor_cannot_add_to_or_remove_from_a_portfolio(portfolio, stranger):
    scan = add(portfolio, pdf())

    with pytest.raises(PortalError) as adding:
        scans.scan_add(portfolio=portfolio, doctor=stranger, kind="diploma", title="", uploaded_file=upload(pdf()))
    with pytest.raises(PortalError) as removing:
        scans.scan_remove(scan=scan, doctor=stranger)

    assert adding.value.status == removing.value.status == 403
    assert list(portfolio.scans.all()) == [scan]


# The pages ------------------------------------------------------------------------------------------------------


def test_the_doctor_uploads_a_scan_from_the_page_and_returns_to_it(client, portfolio):
    client.force_login(portfolio.doctor)
    back = reverse("learning_plan:plan")

    response = client.post(
        reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]),
        {"kind": "diploma", "title": "Диплом", "file": upload(jpeg(), "IMG_0001.JPG", "image/jpeg"), "next": back},
    )

    assert response.status_code == 302
    assert response["Location"] == back
    scan = portfolio.scans.get()
    assert (scan.title, scan.content_type) == ("Диплом", "image/jpeg")
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]


def test_a_wrong_file_from_the_page_is_refused_with_its_message_and_nothing_is_stored(client, portfolio, settings):
    client.force_login(portfolio.doctor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.post(
        reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]),
        {"kind": "diploma", "title": "", "file": upload(b"MZ\x90\x00 not a scan", "diploma.pdf")},
    )

    assert response.status_code == 302
    notes = [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
    assert notes == [
        ("error", "Only PDF files and JPEG or PNG images are accepted. Scan or save the document as one of them.")
    ]
    assert not PortfolioScan.objects.exists()
    assert stored_files() == []


def test_a_form_without_a_file_is_refused(client, portfolio):
    client.force_login(portfolio.doctor)

    response = client.post(reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]), {"kind": "diploma"})

    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    assert not PortfolioScan.objects.exists()


def test_a_next_address_elsewhere_is_not_followed(client, portfolio):
    client.force_login(portfolio.doctor)

    response = client.post(
        reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]),
        {"kind": "diploma", "file": upload(pdf()), "next": "https://evil.example.org/"},
    )

    assert response["Location"] == reverse("learning_plan:portfolio", args=[portfolio.document.specialty.code])


def test_the_doctor_downloads_their_scan_named_as_filed_and_never_sniffed(client, portfolio):
    scan = add(portfolio, jpeg(), kind="programme")
    client.force_login(portfolio.doctor)

    response = client.get(reverse("learning_plan:portfolio_scan_file", args=[portfolio.pk, scan.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == jpeg()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=utf-8''" in disposition
    assert unquote(disposition.split("''", 1)[1]) == "Иванова М.С. удостоверение о повышении квалификации.jpg"


def test_the_doctor_removes_a_scan_from_the_page(client, portfolio, django_capture_on_commit_callbacks):
    scan = add(portfolio, pdf())
    client.force_login(portfolio.doctor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("learning_plan:portfolio_scan_remove", args=[portfolio.pk, scan.pk]))

    assert response.status_code == 302
    assert not PortfolioScan.objects.exists()
    assert stored_files() == []


def test_another_doctors_scans_are_not_found(client, portfolio, stranger):
    scan = add(portfolio, pdf())
    own = portfolio_of(stranger, portfolio.document.specialty)
    client.force_login(stranger)

    assert client.get(reverse("learning_plan:portfolio_scan_file", args=[portfolio.pk, scan.pk])).status_code == 404
    # their own portfolio's address with another portfolio's scan
    assert client.get(reverse("learning_plan:portfolio_scan_file", args=[own.pk, scan.pk])).status_code == 404
    assert client.post(reverse("learning_plan:portfolio_scan_remove", args=[portfolio.pk, scan.pk])).status_code == 404
    assert client.post(reverse("learning_plan:portfolio_scan_remove", args=[own.pk, scan.pk])).status_code == 404
    response = client.post(
        reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]), {"kind": "diploma", "file": upload(pdf())}
    )
    assert response.status_code == 404
    assert list(PortfolioScan.objects.all()) == [scan]


def test_an_anonymous_visitor_is_sent_to_sign_in(client, portfolio):
    scan = add(portfolio, pdf())

    for response in (
        client.get(reverse("learning_plan:portfolio_scan_file", args=[portfolio.pk, scan.pk])),
        client.post(reverse("learning_plan:portfolio_scan_remove", args=[portfolio.pk, scan.pk])),
        client.post(reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk]), {"kind": "diploma"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert PortfolioScan.objects.count() == 1


def test_the_upload_and_removal_need_a_post(client, portfolio):
    scan = add(portfolio, pdf())
    client.force_login(portfolio.doctor)

    assert client.get(reverse("learning_plan:portfolio_scan_add", args=[portfolio.pk])).status_code == 405
    assert client.get(reverse("learning_plan:portfolio_scan_remove", args=[portfolio.pk, scan.pk])).status_code == 405
