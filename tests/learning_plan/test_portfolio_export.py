"""The portfolio's export: each document a PDF in Russian, named as a person filing names it, at most
PORTFOLIO_PDF_MAX_BYTES each (images compressed to fit, or the export refused naming the scan), all in one ZIP
in the private storage, built by the task with its progress, and served only to the doctor."""

import io
import json
import os
import zipfile
from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image
from pypdf import PdfReader

from accounts.models import AuditEvent, WorkRecord
from credits.models import CreditEntry
from credits.services import ledger_append
from learning_plan import export, scans, services
from learning_plan.models import Portfolio, PortfolioExport, ProgrammeEntry
from learning_plan.portfolio import specialty_portfolio
from ministry_sync.models import HeldRecord

from ..factories import DoctorProfileFactory, EventFactory, OrganizationFactory
from ..pdf import page_count, pdf_text

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
SNILS = "11223344595"
PERSON = "Иванова М.С."


def noisy_image(width: int, height: int, fmt: str, **options) -> bytes:
    """Random pixels: a scan that no encoder compresses well, the worst case for the size limits."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def doctor(psychiatry):
    profile = DoctorProfileFactory(
        user__last_name="Иванова",
        user__first_name="Мария",
        user__middle_name="Сергеевна",
        snils=SNILS,
        specialties=[psychiatry],
    )
    return profile.user


@pytest.fixture
def portfolio(doctor, psychiatry):
    document = services.document_record(
        doctor=doctor,
        specialty=psychiatry,
        number="0377180012345",
        issued_on=timezone.localdate() - timedelta(days=1400),
    )
    return document.portfolio


@pytest.fixture
def stranger(psychiatry):
    return DoctorProfileFactory(specialties=[psychiatry]).user


def period_day(portfolio: Portfolio, n: int) -> date:
    """A day inside the portfolio's period, spread over its first four years."""
    return portfolio.document.issued_on + timedelta(days=10 + n % 1300)


@pytest.fixture
def education(portfolio, doctor, psychiatry):
    """One record of each origin: a credit of the register, a programme the doctor entered, a record the Ministry
    holds that the portal did not send."""
    event = EventFactory(
        approved=True,
        title="Конгресс «Психиатрия XXI века»",
        organization=OrganizationFactory(name="Российское общество психиатров", short_name="РОП"),
        specialties=[psychiatry],
        starts_at=timezone.now() - timedelta(days=400),
        ends_at=timezone.now() - timedelta(days=399),
        hours=16,
        credits_requested=12,
    )
    ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE,
        credits=12,
        earned_on=period_day(portfolio, 100),
        actor=None,
        activity=event,
    )
    ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=psychiatry,
        name="Психиатрия: актуальные вопросы диагностики и терапии",
        organization="ФГБОУ ВО «Первый МГМУ им. И. М. Сеченова»",
        hours=144,
        starts_on=period_day(portfolio, 200),
        ends_on=period_day(portfolio, 230),
        document_number="772401234567",
    )
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key="ministry-own-1",
        kind=HeldRecord.Kind.MODULES,
        hours=5,
        title="Депрессия в общей практике",
        earned_on=period_day(portfolio, 300),
        specialty_code=psychiatry.code,
        source_ref="M-2024-17",
    )


def many_records(portfolio, doctor, psychiatry, n: int) -> None:
    ProgrammeEntry.objects.bulk_create(
        ProgrammeEntry(
            doctor=doctor,
            specialty=psychiatry,
            name=f"Программа повышения квалификации № {i:03d}: клиническая психиатрия, психофармакотерапия",
            organization="ФГБОУ ДПО «Российская медицинская академия непрерывного профессионального образования»",
            hours=36,
            starts_on=period_day(portfolio, i),
            ends_on=period_day(portfolio, i),
            document_number=f"ПК-{i:06d}",
        )
        for i in range(n)
    )


def attach(portfolio, content: bytes, kind: str, title: str = ""):
    return scans.scan_add(
        portfolio=portfolio,
        doctor=portfolio.doctor,
        kind=kind,
        title=title,
        uploaded_file=SimpleUploadedFile("scan", content),
    )


def build(portfolio, django_capture_on_commit_callbacks) -> PortfolioExport:
    """Ask for the export and let the task run as the commit sends it (in-process, as without a worker)."""
    with django_capture_on_commit_callbacks(execute=True):
        asked = export.export_request(portfolio=portfolio, doctor=portfolio.doctor)
    asked.refresh_from_db()
    return asked


def documents(built: PortfolioExport) -> dict[str, bytes]:
    with storages["private"].open(built.file.name, "rb") as file, zipfile.ZipFile(io.BytesIO(file.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# The documents ---------------------------------------------------------------------------------------------------


def test_the_education_pdf_reads_back_the_doctor_the_rows_and_the_totals_in_russian(
    portfolio, education, django_capture_on_commit_callbacks, tmp_path
):
    built = build(portfolio, django_capture_on_commit_callbacks)

    text = pdf_text(documents(built)[f"{PERSON} сведения об образовании.pdf"], tmp_path, collapse_spaces=True)
    assert "Сведения об образовании" in text
    assert "Иванова Мария Сергеевна" in text
    assert "112-233-445 95" in text
    assert "31.08.20 Психиатрия" in text
    assert "Аккредитация специалиста № 0377180012345" in text
    # the rows, with where each comes from
    assert "Конгресс «Психиатрия XXI века»" in text
    assert "РОП" in text
    assert "Портал НМО" in text
    assert "Психиатрия: актуальные вопросы диагностики" in text
    assert "772401234567" in text
    assert "Внесено врачом" in text
    assert "Депрессия в общей практике" in text
    assert "M-2024-17" in text
    assert "Портал Минздрава" in text
    # the totals by kind and against the alternatives
    assert "Программы образовательных организаций 144" in text
    assert "Образовательные мероприятия 12" in text
    assert "Интерактивные образовательные модули 5" in text
    assert "НМО всего (мероприятия, модули и иная активность) 17" in text
    assert "Всего за период 161" in text
    assert "Требование по часам выполнено" in text


def test_the_education_table_holds_what_the_portfolio_page_holds_and_nothing_else(
    portfolio, education, psychiatry, cardiology, doctor, django_capture_on_commit_callbacks, tmp_path
):
    ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=cardiology,
        name="Кардиология для психиатров",
        organization="Университет",
        hours=36,
        starts_on=period_day(portfolio, 50),
        ends_on=period_day(portfolio, 50),
        document_number="K-1",
    )
    found = specialty_portfolio(doctor=doctor, specialty=psychiatry)

    built = build(portfolio, django_capture_on_commit_callbacks)

    text = pdf_text(documents(built)[f"{PERSON} сведения об образовании.pdf"], tmp_path, collapse_spaces=True)
    assert len(found.items) == 3
    assert "Кардиология для психиатров" not in text


def test_the_report_pdf_holds_the_seven_sections_wrapped_over_pages_and_the_agreement(
    portfolio, doctor, psychiatry, django_capture_on_commit_callbacks, tmp_path
):
    WorkRecord.objects.create(
        doctor=doctor,
        employer="ГБУЗ «Психиатрическая клиническая больница № 1»",
        employer_inn="7701234567",
        region="77",
        unit="Отделение № 5",
        position="врач-психиатр",
        specialty=psychiatry,
        started_on=date(2015, 9, 1),
    )
    long_text = "\n\n".join(
        f"Абзац {n}: за год принято {n * 100} пациентов, проведено консилиумов — {n * 3}." + " Подробности." * 38
        for n in range(1, 36)
    )
    assert 19_000 < len(long_text) <= 20_000
    for section in ("organization", "unit", "experience", "duties", "work", "development", "proposals"):
        services.report_section_save(
            portfolio=portfolio,
            doctor=doctor,
            section=section,
            text=long_text if section == "work" else f"Текст раздела «{section}».",
        )
    services.agreement_record(portfolio=portfolio, doctor=doctor, state=Portfolio.Agreement.AGREED)

    built = build(portfolio, django_capture_on_commit_callbacks)

    report = documents(built)[f"{PERSON} отчёт о профессиональной деятельности.pdf"]
    assert page_count(report) >= 3
    text = pdf_text(report, tmp_path, collapse_spaces=True)
    assert "Отчёт о профессиональной деятельности" in text
    assert "Иванова Мария Сергеевна" in text
    assert "ГБУЗ «Психиатрическая клиническая больница № 1», ИНН 7701234567" in text
    assert "врач-психиатр (с 01.09.2015 по настоящее время)" in text
    for heading in (
        "1. Сведения об организации",
        "2. Сведения о структурном подразделении",
        "3. Стаж работы по специальности",
        "4. Должностные обязанности",
        "5. Выполненная работа, с количественными показателями",
        "6. Профессиональное развитие и наставничество",
        "7. Предложения по совершенствованию профессиональной деятельности",
    ):
        assert heading in text
    assert "Текст раздела «organization»." in text
    assert "Абзац 1: за год принято 100 пациентов" in text
    assert "Абзац 35: за год принято 3500 пациентов" in text  # nothing of a long section is lost
    assert "Отчёт согласован с работодателем" in text


def test_an_unwritten_report_says_so_and_the_refusal_is_stated_with_its_reason(
    portfolio, doctor, django_capture_on_commit_callbacks, tmp_path
):
    services.agreement_record(
        portfolio=portfolio, doctor=doctor, state=Portfolio.Agreement.REFUSED, reason="Нет руководителя"
    )

    built = build(portfolio, django_capture_on_commit_callbacks)

    text = pdf_text(
        documents(built)[f"{PERSON} отчёт о профессиональной деятельности.pdf"], tmp_path, collapse_spaces=True
    )
    assert text.count("Раздел не заполнен.") == 7
    assert "Работодатель отказал в согласовании" in text
    assert "Причина: Нет руководителя" in text


def test_the_documents_are_named_as_a_person_filing_names_them(portfolio, django_capture_on_commit_callbacks):
    attach(portfolio, noisy_image(40, 40, "PNG"), "programme")
    attach(portfolio, noisy_image(40, 40, "JPEG"), "diploma")
    attach(portfolio, noisy_image(40, 40, "PNG"), "work_book")
    attach(portfolio, noisy_image(40, 40, "PNG"), "programme")
    attach(portfolio, noisy_image(40, 40, "PNG"), "other", title="Свидетельство о браке / смене фамилии")
    attach(portfolio, noisy_image(40, 40, "PNG"), "other")

    built = build(portfolio, django_capture_on_commit_callbacks)

    assert list(documents(built)) == [
        "Иванова М.С. сведения об образовании.pdf",
        "Иванова М.С. отчёт о профессиональной деятельности.pdf",
        "Иванова М.С. диплом.pdf",
        "Иванова М.С. трудовая книжка.pdf",
        "Иванова М.С. удостоверение о повышении квалификации.pdf",
        "Иванова М.С. удостоверение о повышении квалификации 2.pdf",
        "Иванова М.С. Свидетельство о браке смене фамилии.pdf",
        "Иванова М.С. документ.pdf",
    ]


@pytest.mark.parametrize(
    ("last", "first", "middle", "expected"),
    [
        ("Иванова", "Мария", "Сергеевна", "Иванова М.С."),
        ("Петров", "ёжик", "", "Петров Ё."),
        ("", "Мария", "", "Мария"),
    ],
)
def test_surname_and_initials(last, first, middle, expected):
    from accounts.models import User

    assert scans.person_name(User(last_name=last, first_name=first, middle_name=middle, email="m@example.org")) == (
        expected
    )


def test_each_scan_is_a_pdf_that_shows_it(portfolio, django_capture_on_commit_callbacks):
    attach(portfolio, noisy_image(300, 420, "JPEG", quality=90), "diploma")

    built = build(portfolio, django_capture_on_commit_callbacks)

    page = PdfReader(io.BytesIO(documents(built)[f"{PERSON} диплом.pdf"])).pages[0]
    assert [image.image.size for image in page.images] == [(300, 420)]
    # an A4 sheet holds it: 210 mm wide, in points
    assert round(float(page.mediabox.width) / 72 * 25.4) == 210


def test_a_jpeg_that_fits_goes_in_unchanged_and_a_turned_one_is_set_upright(
    portfolio, django_capture_on_commit_callbacks
):
    original = noisy_image(300, 420, "JPEG", quality=90)
    turned = Image.frombytes("RGB", (400, 200), os.urandom(400 * 200 * 3))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: shown rotated a quarter turn clockwise
    buffer = io.BytesIO()
    turned.save(buffer, "JPEG", exif=exif)
    attach(portfolio, original, "diploma")
    attach(portfolio, buffer.getvalue(), "work_book")

    files = documents(build(portfolio, django_capture_on_commit_callbacks))

    assert original in files[f"{PERSON} диплом.pdf"]
    page = PdfReader(io.BytesIO(files[f"{PERSON} трудовая книжка.pdf"])).pages[0]
    assert page.images[0].image.size == (200, 400)
    assert float(page.mediabox.height) > float(page.mediabox.width)


# Within the limit ------------------------------------------------------------------------------------------------


def test_500_records_and_20_mb_of_scans_give_files_of_at_most_10_mb_each(
    portfolio, education, doctor, psychiatry, django_capture_on_commit_callbacks, settings, tmp_path
):
    assert settings.PORTFOLIO_PDF_MAX_BYTES == 10 * MB
    many_records(portfolio, doctor, psychiatry, 497)
    uploads = [
        (noisy_image(1850, 1850, "PNG"), "diploma"),  # 9.8 MB of pixels nothing compresses
        (noisy_image(2480, 3508, "JPEG", quality=92), "work_book"),  # an A4 page at 300 dpi, 8 MB
        (noisy_image(1600, 2200, "PDF", quality=90), "programme"),  # a scanned PDF, 3 MB
    ]
    assert sum(len(content) for content, _kind in uploads) >= 20 * MB
    for content, kind in uploads:
        attach(portfolio, content, kind)

    built = build(portfolio, django_capture_on_commit_callbacks)

    assert built.state == PortfolioExport.State.DONE
    files = documents(built)
    assert len(files) == 5
    for name, content in files.items():
        assert len(content) <= 10 * MB, name
        assert content.startswith(b"%PDF-"), name
    education_pdf = files[f"{PERSON} сведения об образовании.pdf"]
    assert page_count(education_pdf) > 10
    text = pdf_text(education_pdf, tmp_path, collapse_spaces=True)
    assert "Программа повышения квалификации № 000" in text
    assert "Программа повышения квалификации № 496" in text
    assert "ПК-000496" in text
    assert f"Всего за период {497 * 36 + 161}" in text


def test_an_image_too_large_for_the_limit_is_compressed_until_it_fits(
    portfolio, django_capture_on_commit_callbacks, settings
):
    original = noisy_image(1800, 1800, "PNG")
    settings.PORTFOLIO_PDF_MAX_BYTES = 1 * MB
    attach(portfolio, original, "diploma")

    built = build(portfolio, django_capture_on_commit_callbacks)

    pdf = documents(built)[f"{PERSON} диплом.pdf"]
    assert len(original) > 9 * MB
    assert len(pdf) <= 1 * MB
    image = PdfReader(io.BytesIO(pdf)).pages[0].images[0].image
    assert image.size[1] >= 1240  # smaller, but still a legible page


def test_a_scanned_pdf_over_the_limit_is_recompressed_to_fit(portfolio, django_capture_on_commit_callbacks, settings):
    scanned = noisy_image(2480, 3508, "PDF", quality=95, resolution=300)
    settings.PORTFOLIO_PDF_MAX_BYTES = 3 * MB
    assert len(scanned) > 3 * MB
    attach(portfolio, scanned, "work_book")

    built = build(portfolio, django_capture_on_commit_callbacks)

    pdf = documents(built)[f"{PERSON} трудовая книжка.pdf"]
    assert len(pdf) <= 3 * MB
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert len(reader.pages[0].images) == 1


def test_a_scanned_pdf_within_the_limit_goes_in_as_it_was_uploaded(portfolio, django_capture_on_commit_callbacks):
    scanned = noisy_image(600, 800, "PDF", quality=90)
    attach(portfolio, scanned, "work_book")

    built = build(portfolio, django_capture_on_commit_callbacks)

    assert documents(built)[f"{PERSON} трудовая книжка.pdf"] == scanned


def test_a_scan_that_cannot_fit_fails_the_export_with_a_message_naming_it(
    portfolio, client, django_capture_on_commit_callbacks, settings
):
    settings.PORTFOLIO_PDF_MAX_BYTES = 150_000
    attach(portfolio, noisy_image(100, 100, "PNG"), "diploma")
    attach(portfolio, noisy_image(1500, 1500, "PNG"), "programme", title="Удостоверение о ПК 2023")

    built = build(portfolio, django_capture_on_commit_callbacks)

    assert built.state == PortfolioExport.State.FAILED
    assert not built.file
    assert not storages["private"].exists("portfolio-exports")
    assert json.loads(built.error)["code"] == "export_scan_too_large"
    client.force_login(portfolio.doctor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    state = client.get(reverse("learning_plan:portfolio_export_state", args=[portfolio.pk])).json()
    assert state["state"] == "failed"
    assert state["download_url"] == ""
    assert state["error"].startswith("The scan «Удостоверение о ПК 2023» cannot be made smaller than 146.5\xa0KB")
    with translation.override("ru"):
        assert "«Удостоверение о ПК 2023»" in export.ExportStatus(built).error_message


def test_a_scanned_pdf_that_cannot_shrink_fails_the_export(portfolio, django_capture_on_commit_callbacks, settings):
    settings.PORTFOLIO_PDF_MAX_BYTES = 150_000
    attach(portfolio, noisy_image(1500, 2000, "PDF", quality=95), "work_book", title="Трудовая книжка, стр. 1–4")

    built = build(portfolio, django_capture_on_commit_callbacks)

    assert built.state == PortfolioExport.State.FAILED
    assert json.loads(built.error) == {"code": "export_scan_too_large", "title": "Трудовая книжка, стр. 1–4"}


# Requests, progress, storage ------------------------------------------------------------------------------------


def test_a_second_request_while_one_is_queued_returns_that_one(portfolio):
    first = export.export_request(portfolio=portfolio, doctor=portfolio.doctor)
    second = export.export_request(portfolio=portfolio, doctor=portfolio.doctor)

    assert first.pk == second.pk
    assert PortfolioExport.objects.count() == 1
    assert AuditEvent.objects.filter(action="portfolio.export_request").count() == 1


def test_a_request_after_a_lost_build_makes_a_new_one(portfolio):
    lost = PortfolioExport.objects.create(portfolio=portfolio, state=PortfolioExport.State.RUNNING, progress=40)
    PortfolioExport.objects.filter(pk=lost.pk).update(created_at=timezone.now() - export.RUNNING_TIMEOUT * 2)

    fresh = export.export_request(portfolio=portfolio, doctor=portfolio.doctor)

    assert fresh.pk != lost.pk
    lost.refresh_from_db()
    assert lost.state == PortfolioExport.State.FAILED
    assert json.loads(lost.error)["code"] == "export_interrupted"


def test_the_build_reports_its_progress_as_it_goes(portfolio, education):
    attach(portfolio, noisy_image(200, 200, "PNG"), "diploma")
    attach(portfolio, noisy_image(200, 200, "PNG"), "work_book")
    seen: list[int] = []

    count = export.write_portfolio_zip(portfolio, io.BytesIO(), progress=seen.append)

    assert count == 4
    assert seen == sorted(seen)
    assert seen[0] < 10
    assert seen[-1] == 98
    assert len(set(seen)) >= 4


def test_the_task_takes_a_queued_export_once(portfolio):
    queued = PortfolioExport.objects.create(portfolio=portfolio)

    first = export.build_portfolio_export(export_id=queued.pk)
    second = export.build_portfolio_export(export_id=queued.pk)

    assert first.startswith("portfolio-exports/")
    assert second == ""
    queued.refresh_from_db()
    assert (queued.state, queued.progress, queued.file.name) == (PortfolioExport.State.DONE, 100, first)
    assert queued.size == len(storages["private"].open(first, "rb").read())


def test_a_new_zip_replaces_the_one_built_before(portfolio, django_capture_on_commit_callbacks):
    old = build(portfolio, django_capture_on_commit_callbacks)

    new = build(portfolio, django_capture_on_commit_callbacks)

    assert new.pk != old.pk
    assert list(PortfolioExport.objects.all()) == [new]
    assert not storages["private"].exists(old.file.name)
    assert storages["private"].exists(new.file.name)


# The pages ---------------------------------------------------------------------------------------------------------


def test_the_doctor_asks_for_the_zip_follows_its_state_and_downloads_it(
    portfolio, education, client, django_capture_on_commit_callbacks
):
    client.force_login(portfolio.doctor)
    back = reverse("learning_plan:plan")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("learning_plan:portfolio_export", args=[portfolio.pk]), {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    state = client.get(reverse("learning_plan:portfolio_export_state", args=[portfolio.pk]))
    assert state["Cache-Control"].startswith("max-age=0")
    data = state.json()
    built = PortfolioExport.objects.get()
    assert data == {
        "state": "done",
        "state_label": "Готов",
        "progress": 100,
        "error": "",
        "download_url": reverse("learning_plan:portfolio_export_file", args=[portfolio.pk, built.pk]),
    }
    download = client.get(data["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert unquote(download["Content-Disposition"].split("''", 1)[1]) == "Иванова М.С. портфолио 31.08.20.zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        assert archive.namelist() == [
            "Иванова М.С. сведения об образовании.pdf",
            "Иванова М.С. отчёт о профессиональной деятельности.pdf",
        ]


def test_the_zip_lives_in_the_private_storage_and_nowhere_under_media(
    portfolio, client, django_capture_on_commit_callbacks
):
    built = build(portfolio, django_capture_on_commit_callbacks)
    client.force_login(portfolio.doctor)

    assert built.file.name.startswith("portfolio-exports/")
    assert len(built.file.name) > len("portfolio-exports/.zip") + 20  # a random part
    assert storages["private"].exists(built.file.name)
    assert client.get(f"/media/{built.file.name}").status_code == 404


def test_another_doctors_exports_are_not_found_and_anonymous_visitors_sign_in(
    portfolio, stranger, client, django_capture_on_commit_callbacks
):
    built = build(portfolio, django_capture_on_commit_callbacks)
    addresses = [
        ("get", reverse("learning_plan:portfolio_export_state", args=[portfolio.pk])),
        ("get", reverse("learning_plan:portfolio_export_file", args=[portfolio.pk, built.pk])),
        ("post", reverse("learning_plan:portfolio_export", args=[portfolio.pk])),
    ]

    for method, url in addresses:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    client.force_login(stranger)
    for method, url in addresses:
        assert getattr(client, method)(url).status_code == 404
    assert PortfolioExport.objects.count() == 1


def render_partial(template: str, portfolio, doctor, language: str) -> str:
    request = RequestFactory().get("/me/portfolio/31.08.20/")
    request.user = doctor
    with translation.override(language):
        found = specialty_portfolio(doctor=doctor, specialty=portfolio.document.specialty)
        return render_to_string(template, {"p": found, "request": request})


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_partials_show_the_scans_the_progress_and_the_link(portfolio, doctor, language):
    attach(portfolio, noisy_image(40, 40, "PNG"), "diploma", title="Диплом специалиста")
    PortfolioExport.objects.create(portfolio=portfolio, state=PortfolioExport.State.RUNNING, progress=40)

    scans_html = render_partial("learning_plan/portfolio/_scans.html", portfolio, doctor, language)
    export_html = render_partial("learning_plan/portfolio/_export.html", portfolio, doctor, language)

    assert "Диплом специалиста" in scans_html
    assert 'enctype="multipart/form-data"' in scans_html
    assert scans_html.count("data-label=") == 5
    assert 'data-state="running"' in export_html
    assert '<progress max="100" value="40"' in export_html
    assert "js/portfolio_export.js" in export_html
    assert ("Собирается" if language == "ru" else "Being built") in export_html


def test_a_removed_scan_takes_the_zip_built_with_it_away(portfolio, django_capture_on_commit_callbacks):
    scan = attach(portfolio, noisy_image(300, 420, "JPEG", quality=90), "diploma")
    built = build(portfolio, django_capture_on_commit_callbacks)
    name = built.file.name
    assert storages["private"].exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        scans.scan_remove(scan=scan, doctor=portfolio.doctor)

    assert not PortfolioExport.objects.filter(portfolio=portfolio).exists()
    assert not storages["private"].exists(name)  # the wrong diploma is offered nowhere
