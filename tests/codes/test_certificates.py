"""Certificates (Свидетельство НМО): the PDF, the event's whole file, and the e-mails to the holders."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from codes.certificate_pdf import certificate_pdf, credits_ru, event_dates
from codes.certificates import build_event_certificates, mail_certificates, private_storage
from codes.format import format_code, generate_codes
from codes.models import EventCertificatesFile, IcpCode, IssuanceBatch
from nmo_portal.calendar import register_zone

from ..factories import EventFactory, OrganizationFactory
from ..pdf import page_count, pdf_text

MOSCOW = register_zone()


@pytest.fixture
def congress(db):
    """An approved three-day congress, 24 credits."""
    return EventFactory(
        approved=True,
        title="Всероссийский конгресс «Психиатрия и психофармакотерапия»",
        organization=OrganizationFactory(name="Российское общество психиатров"),
        venue="Санкт-Петербург, Пироговская наб., 5/2",
        starts_at=datetime(2025, 3, 12, 9, tzinfo=MOSCOW),
        ends_at=datetime(2025, 3, 14, 18, tzinfo=MOSCOW),
        hours=24,
        credits_requested=24,
    )


def make_codes(event, holders, **fields):
    """One code per holder name ("" for a blank code), in id order."""
    return [
        IcpCode.objects.create(code=code, event=event, holder_name=holder, **fields)
        for code, holder in zip(generate_codes(len(holders)), holders, strict=True)
    ]


def fetched(codes):
    return list(IcpCode.objects.filter(pk__in=[c.pk for c in codes]).select_related("event__organization"))


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 кредит"),
        (2, "2 кредита"),
        (4, "4 кредита"),
        (5, "5 кредитов"),
        (11, "11 кредитов"),
        (12, "12 кредитов"),
        (14, "14 кредитов"),
        (21, "21 кредит"),
        (24, "24 кредита"),
        (36, "36 кредитов"),
        (101, "101 кредит"),
        (111, "111 кредитов"),
    ],
)
def test_credits_are_written_with_the_russian_plural(n, text):
    assert credits_ru(n) == text


def test_event_dates_are_moscow_dates_and_one_date_for_a_one_day_event(db):
    # 21:30 UTC on the 11th is already the 12th in Moscow.
    congress = EventFactory(
        starts_at=datetime(2025, 3, 11, 21, 30, tzinfo=ZoneInfo("UTC")),
        ends_at=datetime(2025, 3, 14, 15, tzinfo=ZoneInfo("UTC")),
    )
    school = EventFactory(
        starts_at=datetime(2025, 4, 2, 10, tzinfo=MOSCOW), ends_at=datetime(2025, 4, 2, 17, tzinfo=MOSCOW)
    )
    assert event_dates(congress) == "12.03.2025 – 14.03.2025"
    assert event_dates(school) == "02.04.2025"


def test_certificate_pdf_has_a_page_per_code_with_its_code_and_check_url(congress, django_assert_num_queries):
    codes = fetched(make_codes(congress, ["Petrova Maria", "Ivanov Oleg", ""]))

    with django_assert_num_queries(0):
        pdf = certificate_pdf(codes, compress=False)

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 3
    for code in codes:
        assert format_code(code.code).encode() in pdf
        assert f"http://testserver/verify/{code.verify_token}/".encode() in pdf


def test_certificate_pdf_is_compressed_by_default(congress):
    codes = fetched(make_codes(congress, ["Petrova Maria"]))

    pdf = certificate_pdf(codes)

    assert page_count(pdf) == 1
    assert format_code(codes[0].code).encode() not in pdf
    assert len(pdf) < len(certificate_pdf(codes, compress=False))


def test_certificate_shows_the_holder_event_credits_and_a_line_for_a_blank_code(congress, tmp_path):
    named, blank = fetched(make_codes(congress, ["Петрова Мария Ивановна", ""]))
    pdf = certificate_pdf([named, blank], compress=False)
    assert format_code(named.code).encode() in pdf
    assert format_code(blank.code).encode() in pdf

    # Cyrillic in an embedded TrueType font is stored as glyph ids: only a text extractor can read it back.
    first, second = pdf_text(pdf, tmp_path).split("\f")[:2]
    assert "Свидетельство НМО" in first
    assert "Петрова Мария Ивановна" in first
    assert "Психиатрия и психофармакотерапия" in first
    assert "12.03.2025 – 14.03.2025" in first
    assert "Российское общество психиатров" in first
    assert "24 кредита" in first
    assert "Петрова" not in second
    assert "фамилия, имя, отчество" in second
    assert "фамилия, имя, отчество" not in first


def test_a_long_title_and_name_still_fit_one_page(congress):
    congress.title = "Междисциплинарный подход к лечению тревожных расстройств. " * 5
    congress.save()
    codes = fetched(make_codes(congress, ["Константинопольская-Верхнеднепровская Александра Вячеславовна " * 3]))

    assert page_count(certificate_pdf(codes)) == 1


def test_build_event_certificates_writes_the_event_file_without_revoked_or_other_events_codes(congress):
    make_codes(congress, ["Petrova Maria", "", ""])
    make_codes(congress, ["Revoked Holder"], status=IcpCode.Status.REVOKED, revoked_at=timezone.now())
    make_codes(EventFactory(approved=True), ["Another Event"])

    name = build_event_certificates(event_id=congress.pk)

    assert EventCertificatesFile.objects.get(event=congress).file_name == name
    with private_storage().open(name, "rb") as file:
        pdf = file.read()
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 3


def test_build_event_certificates_replaces_an_earlier_file(congress):
    make_codes(congress, ["Petrova Maria"])
    first = build_event_certificates(event_id=congress.pk)
    make_codes(congress, ["Ivanov Oleg"])

    name = build_event_certificates.delay(event_id=congress.pk).get()

    with private_storage().open(name, "rb") as file:
        assert page_count(file.read()) == 2
    assert not private_storage().exists(first)  # the file it replaced is gone
    assert EventCertificatesFile.objects.get(event=congress).file_name == name


def test_mail_certificates_sends_each_holder_with_an_email_their_certificate(congress, mailoutbox):
    batch = IssuanceBatch.objects.create(event=congress, kind=IssuanceBatch.Kind.ATTENDEES, requested=4)
    [maria] = make_codes(congress, ["Петрова Мария Ивановна"], batch=batch, holder_email="maria@example.org")
    [oleg] = make_codes(congress, ["Иванов Олег"], batch=batch, holder_email="oleg@example.org")
    make_codes(congress, ["Без почты"], batch=batch)
    make_codes(
        congress,
        ["Отозванный"],
        batch=batch,
        holder_email="revoked@example.org",
        status=IcpCode.Status.REVOKED,
        revoked_at=timezone.now(),
    )
    make_codes(congress, ["Другая выдача"], holder_email="other-batch@example.org")

    sent = mail_certificates(batch_id=batch.pk)

    assert sent == 2
    assert [m.to for m in mailoutbox] == [["maria@example.org"], ["oleg@example.org"]]
    for message, code in zip(mailoutbox, (maria, oleg), strict=True):
        display = format_code(code.code)
        assert message.subject.startswith("[Портал НМО] ")
        assert congress.title in message.subject
        assert code.holder_name in message.body
        assert display in message.body
        assert "http://testserver/me/credits/" in message.body
        assert f"http://testserver/verify/{code.verify_token}/" in message.body
        [(filename, content, mimetype)] = message.attachments
        assert filename == f"certificate-{display}.pdf"
        assert mimetype == "application/pdf"
        assert content.startswith(b"%PDF")
        assert page_count(content) == 1


def test_mail_certificates_sends_nothing_for_a_batch_of_blank_codes(congress, mailoutbox):
    batch = IssuanceBatch.objects.create(event=congress, kind=IssuanceBatch.Kind.BLANK, requested=3)
    make_codes(congress, ["", "", ""], batch=batch)

    assert mail_certificates(batch_id=batch.pk) == 0
    assert mailoutbox == []
