"""The activity report for the educational organization: one cycle as CSV and as PDF."""

import codecs
import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from accounts.models import User
from codes.format import format_code, generate_codes
from codes.models import IcpCode
from credits.models import CreditEntry
from credits.services import ledger_append
from learning_plan.models import Cycle, CycleRule, ProgrammeEntry
from learning_plan.report import report_csv, report_filename, report_pdf
from learning_plan.selectors import learning_plan

from ..factories import DoctorProfileFactory, EventFactory, ModuleFactory, OrganizationFactory, make_snils
from ..pdf import page_count, pdf_text

SNILS = "11223344595"


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def section(rows: list[list[str]], header: str) -> list[list[str]]:
    """The rows of the table whose header row starts with `header`, up to the blank row that ends it."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == header) + 1
    end = next((i for i in range(start, len(rows)) if not rows[i]), len(rows))
    return rows[start:end]


@pytest.fixture
def doctor(db, psychiatry):
    profile = DoctorProfileFactory(
        user__last_name="Иванова", user__first_name="Мария", user__middle_name="Сергеевна", snils=SNILS
    )
    profile.specialties.set([psychiatry])
    return profile.user


@pytest.fixture
def cycle(doctor, psychiatry):
    return Cycle.objects.create(
        doctor=doctor,
        specialty=psychiatry,
        rule=CycleRule.objects.get(is_default=True),
        starts_on=date(2023, 1, 1),
        ends_on=date(2027, 12, 31),
    )


def credit(doctor, *, credits, earned_on, event=None, module=None):
    return ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.MODULE_COMPLETION if module else CreditEntry.Source.CODE,
        credits=credits,
        earned_on=earned_on,
        actor=None,
        activity=event or module,
    )


@pytest.fixture
def activity(doctor, cycle, psychiatry, cardiology):
    """A programme of 108 hours, two events (18 credits), one module (4 credits), and two that do not count."""
    ProgrammeEntry.objects.create(
        doctor=doctor,
        specialty=psychiatry,
        name="Психиатрия: актуальные вопросы диагностики и терапии",
        organization="ФГБОУ ВО «Первый МГМУ им. И. М. Сеченова»",
        hours=108,
        starts_on=date(2024, 2, 5),
        ends_on=date(2024, 3, 2),
        document_number="772401234567",
    )
    congress = EventFactory(approved=True, title="Конгресс «Психиатрия XXI века»", specialties=[psychiatry])
    school = EventFactory(approved=True, title="Школа психофармакотерапии", specialties=[psychiatry])
    module = ModuleFactory(approved=True, title="Депрессия в общей практике", specialties=[psychiatry])
    credit(doctor, credits=12, earned_on=date(2024, 4, 12), event=congress)
    credit(doctor, credits=6, earned_on=date(2024, 9, 20), event=school)
    credit(doctor, credits=4, earned_on=date(2025, 1, 15), module=module)
    # Neither counts toward the psychiatry cycle: another specialty, and a date before the cycle.
    cardio = EventFactory(approved=True, title="Кардиологический форум", specialties=[cardiology])
    credit(doctor, credits=6, earned_on=date(2024, 5, 1), event=cardio)
    old = EventFactory(approved=True, title="Старая конференция", specialties=[psychiatry])
    credit(doctor, credits=6, earned_on=date(2022, 6, 1), event=old)


def loaded(doctor):
    """The doctor with the profile, and the plan of their one cycle, as a view would load them."""
    doctor = User.objects.select_related("doctor_profile").get(pk=doctor.pk)
    return doctor, learning_plan(doctor=doctor).cycles[0]


def test_csv_opens_in_excel_with_the_doctor_and_the_cycle(activity, doctor):
    doctor, plan = loaded(doctor)

    data = report_csv(plan, doctor=doctor)

    assert data.startswith(codecs.BOM_UTF8)
    rows = csv_rows(data)
    assert rows[0] == ["Отчёт об образовательной активности"]
    header = {row[0]: row[1] for row in rows[1:7]}
    assert header["ФИО"] == "Иванова Мария Сергеевна"
    assert header["СНИЛС"] == "112-233-445 95"
    assert header["Специальность"] == "31.08.20 Психиатрия"
    assert header["Период цикла"] == "01.01.2023 – 31.12.2027"
    assert header["Правило цикла"] == "Стандартный цикл: 144 часа"


def test_csv_lists_each_counted_record_and_programme_with_its_hours(activity, doctor):
    doctor, plan = loaded(doctor)

    table = section(csv_rows(report_csv(plan, doctor=doctor)), "Дата зачёта")

    assert table == [
        [
            "02.03.2024",
            "Программа образовательной организации",
            "Психиатрия: актуальные вопросы диагностики и терапии",
            "Документ № 772401234567, ФГБОУ ВО «Первый МГМУ им. И. М. Сеченова»",
            "108",
        ],
        ["12.04.2024", "Мероприятие", "Конгресс «Психиатрия XXI века»", "Код ИКП", "12"],
        ["20.09.2024", "Мероприятие", "Школа психофармакотерапии", "Код ИКП", "6"],
        ["15.01.2025", "Интерактивный модуль", "Депрессия в общей практике", "Завершение модуля", "4"],
    ]


def test_csv_totals_each_component_against_its_requirement(activity, doctor):
    doctor, plan = loaded(doctor)

    totals = section(csv_rows(report_csv(plan, doctor=doctor)), "Компонент")

    assert totals == [
        ["Программы образовательных организаций", "108", "108", "0"],
        ["Мероприятия и модули НМО", "36", "22", "0"],
        ["из них образовательные мероприятия", "16", "18", "2"],
        ["из них интерактивные модули", "20", "4", "0"],
        ["Всего в зачёт цикла", "144", "130", ""],
    ]


def test_csv_names_the_activated_icp_code_as_the_source(doctor, cycle, psychiatry):
    event = EventFactory(approved=True, title="Школа психофармакотерапии", specialties=[psychiatry])
    code = IcpCode.objects.create(
        code=generate_codes(1)[0],
        event=event,
        status=IcpCode.Status.ACTIVATED,
        activated_by=doctor,
        activated_at=timezone.now(),
    )
    ledger_append(
        doctor=doctor,
        kind=CreditEntry.Kind.CREDIT,
        source=CreditEntry.Source.CODE,
        credits=6,
        earned_on=date(2024, 9, 20),
        actor=doctor,
        source_id=code.pk,
        activity=event,
    )
    doctor, plan = loaded(doctor)

    table = section(csv_rows(report_csv(plan, doctor=doctor)), "Дата зачёта")

    assert table == [["20.09.2024", "Мероприятие", "Школа психофармакотерапии", f"ИКП {format_code(code.code)}", "6"]]


def test_csv_keeps_a_formula_like_title_as_text(doctor, cycle, psychiatry):
    event = EventFactory(approved=True, title='=HYPERLINK("http://evil.example","Открыть")', specialties=[psychiatry])
    credit(doctor, credits=3, earned_on=date(2024, 4, 12), event=event)
    doctor, plan = loaded(doctor)

    table = section(csv_rows(report_csv(plan, doctor=doctor)), "Дата зачёта")

    assert table[0][2] == '\'=HYPERLINK("http://evil.example","Открыть")'


def test_report_states_when_it_was_made_in_moscow_time(activity, doctor, monkeypatch):
    doctor, plan = loaded(doctor)
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 3, 14, 21, 30, tzinfo=UTC))

    rows = csv_rows(report_csv(plan, doctor=doctor))

    assert ["Дата формирования", "15.03.2025 00:30 (МСК)"] in rows


def test_report_refuses_a_cycle_of_another_doctor(activity, doctor):
    _, plan = loaded(doctor)
    stranger = DoctorProfileFactory(snils=make_snils(9001)).user

    with pytest.raises(ValueError, match="another doctor"):
        report_csv(plan, doctor=stranger)
    with pytest.raises(ValueError, match="another doctor"):
        report_pdf(plan, doctor=stranger)


def test_report_file_names_tell_the_cycles_apart(activity, doctor):
    _, plan = loaded(doctor)

    assert report_filename(plan, extension="pdf") == "nmo-report-31.08.20-2023-01-01.pdf"


def test_pdf_is_a_pdf_of_one_page_for_a_short_cycle(activity, doctor):
    doctor, plan = loaded(doctor)

    pdf = report_pdf(plan, doctor=doctor)

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1


def test_pdf_shows_the_doctor_the_records_and_the_totals(activity, doctor, tmp_path):
    doctor, plan = loaded(doctor)

    text = pdf_text(report_pdf(plan, doctor=doctor), tmp_path, collapse_spaces=True)

    assert "Отчёт об образовательной активности" in text
    assert "Иванова Мария Сергеевна" in text
    assert "112-233-445 95" in text
    assert "31.08.20 Психиатрия" in text
    assert "01.01.2023 – 31.12.2027" in text
    assert "Стандартный цикл: 144 часа" in text
    assert "Школа психофармакотерапии" in text
    assert "Депрессия в общей практике" in text
    assert "772401234567" in text
    assert "Кардиологический форум" not in text
    assert "Старая конференция" not in text
    assert "Программы образовательных организаций 108 108 —" in text
    assert "из них образовательные мероприятия 16 18 2" in text
    assert "из них интерактивные модули 20 4 —" in text
    assert "Всего в зачёт цикла 144 130" in text
    assert "(МСК)" in text
    assert "стр. 1" in text


def test_pdf_of_a_cycle_without_records_says_so(doctor, cycle, tmp_path):
    doctor, plan = loaded(doctor)

    text = pdf_text(report_pdf(plan, doctor=doctor), tmp_path, collapse_spaces=True)

    assert "В цикле пока нет зачтённой активности." in text
    assert "Всего в зачёт цикла 144 0" in text


def test_report_of_500_records_spans_pages_without_queries(
    doctor, cycle, psychiatry, tmp_path, django_assert_max_num_queries
):
    organization = OrganizationFactory()
    for n in range(500):
        event = EventFactory(
            approved=True,
            organization=organization,
            title=f"Клинический разбор №{n}: ведение пациентов с резистентной депрессией в амбулаторной практике",
            specialties=[psychiatry],
        )
        credit(doctor, credits=1 + n % 6, earned_on=date(2024, 1, 1 + n % 28), event=event)
    doctor, plan = loaded(doctor)
    assert len(plan.records) == 500

    with django_assert_max_num_queries(0):
        data = report_csv(plan, doctor=doctor)
        pdf = report_pdf(plan, doctor=doctor)

    assert len(section(csv_rows(data), "Дата зачёта")) == 500
    pages = page_count(pdf)
    assert pages > 1
    text = pdf_text(pdf, tmp_path, collapse_spaces=True)
    assert f"стр. {pages}" in text
    # The header row repeats on every page the table runs over.
    assert text.count("Наименование") >= pages - 1
