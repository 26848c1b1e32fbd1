"""Reading a provider's attendee list: the files providers really upload, and every way such a file goes wrong."""

import io
import zipfile

import pytest
from django.utils import translation
from openpyxl import Workbook

from codes.attendees import MAX_NAME_LENGTH, Attendee, AttendeeList, read_attendees
from codes.models import IcpCode
from nmo_portal.spreadsheets import MAX_EMAIL_LENGTH, RowError

VALID_SNILS = "11223344595"
VALID_SNILS_TYPED = "112-233-445 95"
WRONG_CONTROL_SNILS = "112-233-445 96"
# Starts with zeros and is past 001-001-998, so its control sum is checked: 1·7 + 2·6 + … + 7·1 = 84.
LEADING_ZERO_SNILS = "00123456784"


@pytest.fixture(autouse=True)
def _english():
    """New messages have no Russian translation yet; assertions read the English source text."""
    with translation.override("en"):
        yield


def xlsx(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assert_refused(result: AttendeeList) -> None:
    assert not result.ok
    assert result.attendees == []


def test_a_utf8_csv_with_commas_is_read():
    data = (
        "full_name,email,snils\n"
        "Иванов Иван Иванович,ivan@example.ru,112-233-445 95\n"
        "Петрова Анна Сергеевна,anna@example.ru,\n"
    ).encode()

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert result.file_error is None
    assert result.errors == []
    assert result.attendees == [
        Attendee(full_name="Иванов Иван Иванович", email="ivan@example.ru", snils=VALID_SNILS, row=2),
        Attendee(full_name="Петрова Анна Сергеевна", email="anna@example.ru", snils=None, row=3),
    ]


def test_a_utf8_csv_with_a_bom_as_excel_saves_csv_utf8_is_read():
    data = "\ufeffФИО,E-mail\nИванов Иван,ivan@example.ru\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert result.attendees == [Attendee(full_name="Иванов Иван", email="ivan@example.ru", snils=None, row=2)]


def test_a_cp1251_csv_saved_by_russian_excel_is_read():
    text = (
        "ФИО;E-mail;СНИЛС;Место работы\r\n"
        'Семёнов Пётр Ильич;Semenov@Example.RU;112-233-445 95;"ГБУЗ №1; кардиология"\r\n'
        "Юрьева Жанна Эдуардовна;zh.yurieva@example.ru;;\r\n"
    )
    data = text.encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the file really is not UTF-8, so the fallback is what is tested

    result = read_attendees(data, "Список участников.CSV")

    assert result.ok
    assert result.attendees == [
        Attendee(full_name="Семёнов Пётр Ильич", email="semenov@example.ru", snils=VALID_SNILS, row=2),
        Attendee(full_name="Юрьева Жанна Эдуардовна", email="zh.yurieva@example.ru", snils=None, row=3),
    ]


def test_a_utf16_csv_as_excel_saves_unicode_text_is_read():
    data = "ФИО\tE-mail\r\nИванов Иван\tivan@example.ru\r\n".encode("utf-16")

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert [attendee.email for attendee in result.attendees] == ["ivan@example.ru"]


def test_the_delimiter_is_the_one_under_which_the_header_names_the_columns():
    data = "ФИО;E-mail;Организация, город, отдел\nИванов Иван;ivan@example.ru;ГБУЗ, Москва, ОРИТ\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert result.attendees == [Attendee(full_name="Иванов Иван", email="ivan@example.ru", snils=None, row=2)]


def test_an_xlsx_with_russian_headers_is_read():
    data = xlsx(
        [
            ["№", "Фамилия Имя Отчество", "Электронная почта", "СНИЛС"],
            [1, "Иванов  Иван\u00a0Иванович ", " IVAN@example.ru", VALID_SNILS_TYPED],
            [2, "Петрова Анна Сергеевна", "anna@example.ru", None],
        ]
    )

    result = read_attendees(data, "attendees.xlsx")

    assert result.ok
    assert result.attendees == [
        Attendee(full_name="Иванов Иван Иванович", email="ivan@example.ru", snils=VALID_SNILS, row=2),
        Attendee(full_name="Петрова Анна Сергеевна", email="anna@example.ru", snils=None, row=3),
    ]


def test_an_xlsx_is_read_from_its_first_sheet():
    workbook = Workbook()
    workbook.active.append(["ФИО", "E-mail"])
    workbook.active.append(["Иванов Иван", "ivan@example.ru"])
    notes = workbook.create_sheet("Примечания")
    notes.append(["Список составлен 01.02.2025"])
    workbook.active = 1  # saved while looking at the notes
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = read_attendees(buffer.getvalue(), "attendees.xlsx")

    assert result.ok
    assert [attendee.full_name for attendee in result.attendees] == ["Иванов Иван"]


def test_a_snils_typed_into_a_number_cell_keeps_its_leading_zeros():
    data = xlsx([["ФИО", "E-mail", "СНИЛС"], ["Иванов Иван", "ivan@example.ru", int(LEADING_ZERO_SNILS)]])

    result = read_attendees(data, "attendees.xlsx")

    assert result.ok
    assert result.attendees[0].snils == LEADING_ZERO_SNILS


@pytest.mark.parametrize(
    ("name_header", "email_header", "snils_header"),
    [
        ("ФИО", "E-mail", "СНИЛС"),
        ("фио", "e-mail", "снилс"),
        ("Ф.И.О.", "Эл. почта", "Snils"),
        ("Фамилия, имя, отчество", "электронная почта", "SNILS"),
        ("Full name", "Email", "snils"),
        ("full_name", "EMAIL", "СНИЛС"),
        ("Name", "Почта", "СНИЛС"),
    ],
)
def test_header_names_are_matched_in_russian_or_english_in_any_order(name_header, email_header, snils_header):
    data = f"{snils_header};{email_header};{name_header}\n{VALID_SNILS_TYPED};ivan@example.ru;Иванов Иван\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert result.attendees == [Attendee(full_name="Иванов Иван", email="ivan@example.ru", snils=VALID_SNILS, row=2)]


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("ФИО;СНИЛС", ["e-mail"]),
        ("E-mail;СНИЛС", ["ФИО"]),
        ("Участник;Контакт", ["ФИО", "e-mail"]),
    ],
)
def test_a_file_without_a_required_column_is_refused_naming_it(header, missing):
    data = f"{header}\nИванов Иван;{VALID_SNILS_TYPED}\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == []
    for column in missing:
        assert column in result.file_error


def test_a_file_naming_a_column_twice_is_refused():
    data = "ФИО;Email;Эл. почта\nИванов Иван;ivan@example.ru;ivan@example.com\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert "Email" in result.file_error
    assert "Эл. почта" in result.file_error


@pytest.mark.parametrize("email", ["ivan@", "ivan.example.ru", "ivan@example", "иван @example.ru"])
def test_a_broken_email_is_reported_on_its_row_and_no_attendee_is_returned(email):
    data = f"ФИО;E-mail\nПетрова Анна;anna@example.ru\nИванов Иван;{email}\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.file_error is None
    assert result.errors == [RowError(row=3, column="E-mail", message="Not a valid e-mail address.")]


def test_a_repeated_email_is_reported_on_the_later_row_naming_the_first():
    data = (
        "ФИО;E-mail\nИванов Иван;ivan@example.ru\nПетрова Анна;anna@example.ru\nИванов И. И.;Ivan@Example.RU\n"
    ).encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == [RowError(row=4, column="E-mail", message="Same e-mail as row 2.")]


def test_a_repeated_snils_is_reported_on_the_later_row_however_it_is_typed():
    data = (
        "ФИО;E-mail;СНИЛС\n"
        f"Иванов Иван;ivan@example.ru;{VALID_SNILS_TYPED}\n"
        f"Иванов Иван;ivan.work@example.ru;{VALID_SNILS}\n"
    ).encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == [RowError(row=3, column="СНИЛС", message="Same СНИЛС as row 2.")]


def test_a_snils_with_a_wrong_control_sum_is_reported():
    data = f"ФИО;E-mail;СНИЛС\nИванов Иван;ivan@example.ru;{WRONG_CONTROL_SNILS}\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    [error] = result.errors
    assert (error.row, error.column) == (2, "СНИЛС")
    assert "control sum" in error.message


def test_a_snils_too_short_is_reported():
    data = "ФИО;E-mail;СНИЛС\nИванов Иван;ivan@example.ru;112-233-445\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    [error] = result.errors
    assert (error.row, error.column) == (2, "СНИЛС")
    assert "11 digits" in error.message


@pytest.mark.parametrize(
    "typed", ["112-233-445 95", "112 233 445 95", "112-233-445-95", " 11223344595 ", "112‑233‑445 95"]
)
def test_snils_with_spaces_and_dashes_is_accepted_and_normalized_to_eleven_digits(typed):
    data = f"ФИО;E-mail;СНИЛС\nИванов Иван;ivan@example.ru;{typed}\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert result.ok
    assert result.attendees[0].snils == VALID_SNILS


def test_a_missing_name_is_reported_and_spaces_in_names_are_collapsed():
    data = "ФИО;E-mail\n  Иванов   Иван  ;ivan@example.ru\n   ;anna@example.ru\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == [RowError(row=3, column="ФИО", message="The full name is empty.")]

    fixed = read_attendees("ФИО;E-mail\n  Иванов   Иван  ;ivan@example.ru\n".encode(), "attendees.csv")
    assert fixed.attendees[0].full_name == "Иванов Иван"


def test_a_row_that_stops_before_the_email_is_reported_as_missing_it():
    data = "ФИО;E-mail\nИванов Иван\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == [RowError(row=2, column="E-mail", message="The e-mail address is empty.")]


def test_a_name_longer_than_a_code_can_hold_is_reported():
    data = f"ФИО;E-mail\n{'Я' * (MAX_NAME_LENGTH + 1)};ivan@example.ru\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.errors == [RowError(row=2, column="ФИО", message=f"Longer than {MAX_NAME_LENGTH} characters.")]


def test_the_length_limits_are_those_of_the_issued_code():
    assert IcpCode._meta.get_field("holder_name").max_length == MAX_NAME_LENGTH
    assert IcpCode._meta.get_field("holder_email").max_length == MAX_EMAIL_LENGTH


def test_every_problem_in_the_file_is_reported_at_once_in_file_order():
    data = (
        "ФИО;E-mail;СНИЛС\n"
        "Иванов Иван;ivan@example.ru;\n"
        ";broken;\n"
        f"Петрова Анна;ivan@example.ru;{WRONG_CONTROL_SNILS}\n"
    ).encode()

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert [(error.row, error.column) for error in result.errors] == [
        (3, "ФИО"),
        (3, "E-mail"),
        (4, "E-mail"),
        (4, "СНИЛС"),
    ]


def test_empty_rows_are_skipped_and_row_numbers_stay_those_of_the_file():
    data = "\nФИО;E-mail\n\n;;\nИванов Иван;ivan@example.ru\n  ;  \nПетрова Анна;broken\n".encode()

    result = read_attendees(data, "attendees.csv")

    assert result.errors == [RowError(row=7, column="E-mail", message="Not a valid e-mail address.")]


def test_empty_rows_in_an_xlsx_are_skipped_and_row_numbers_stay_those_of_the_sheet():
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["B1"] = "ФИО", "E-mail"
    sheet["A3"], sheet["B3"] = "Иванов Иван", "ivan@example.ru"
    sheet["A6"], sheet["B6"] = "Петрова Анна", "anna@example.ru"
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = read_attendees(buffer.getvalue(), "attendees.xlsx")

    assert result.ok
    assert [attendee.row for attendee in result.attendees] == [3, 6]


def test_an_xlsx_with_a_wrong_size_written_in_it_is_read_to_the_end():
    """Some exporters write <dimension ref="A1"/> whatever the sheet holds."""
    data = xlsx([["ФИО", "E-mail"], ["Иванов Иван", "ivan@example.ru"], ["Петрова Анна", "anna@example.ru"]])
    source, patched = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(patched, "w") as archive:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'<dimension ref="A1:B3" />' in content
                content = content.replace(b'<dimension ref="A1:B3" />', b'<dimension ref="A1" />')
            archive.writestr(item, content)

    result = read_attendees(patched.getvalue(), "attendees.xlsx")

    assert result.ok
    assert [attendee.email for attendee in result.attendees] == ["ivan@example.ru", "anna@example.ru"]


def test_a_quoted_csv_cell_spanning_lines_is_one_row():
    data = 'ФИО;E-mail;Примечание\nИванов Иван;ivan@example.ru;"две\nстроки"\nПетрова Анна;broken;\n'.encode()

    result = read_attendees(data, "attendees.csv")

    assert [error.row for error in result.errors] == [3]


def test_a_file_over_the_row_limit_is_refused():
    rows = "".join(f"Участник {n};person{n}@example.ru\n" for n in range(4))
    data = f"ФИО;E-mail\n{rows}".encode()

    assert read_attendees(data, "attendees.csv", max_rows=4).ok
    result = read_attendees(data, "attendees.csv", max_rows=3)

    assert_refused(result)
    assert result.file_error == "The file has more than 3 attendees. Split it into several files."


def test_empty_rows_do_not_count_toward_the_row_limit():
    data = "ФИО;E-mail\nИванов Иван;ivan@example.ru\n\n;\n\nПетрова Анна;anna@example.ru\n".encode()

    assert read_attendees(data, "attendees.csv", max_rows=2).ok


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n;;\r\n\r\n", "The file is empty."),
        ("ФИО;E-mail\n;\n".encode(), "The file has a header row but no attendees below it."),
    ],
)
def test_a_file_with_no_attendees_is_refused(data, message):
    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.file_error == message


def test_an_xlsx_that_is_really_text_is_refused():
    data = "ФИО;E-mail\nИванов Иван;ivan@example.ru\n".encode("cp1251")

    result = read_attendees(data, "attendees.xlsx")

    assert_refused(result)
    assert "not an Excel workbook" in result.file_error


def test_a_workbook_named_csv_is_refused():
    data = xlsx([["ФИО", "E-mail"], ["Иванов Иван", "ivan@example.ru"]])

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert "is an Excel workbook" in result.file_error


def zip_of(name, content):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(zip_of("word/document.xml", "<w:document/>"), id="another-zip"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 200, id="broken-zip"),
        pytest.param(xlsx([["ФИО", "E-mail"], ["Иванов Иван", "ivan@example.ru"]])[:-300], id="truncated-xlsx"),
    ],
)
def test_a_zip_that_is_not_a_readable_workbook_is_refused(data):
    result = read_attendees(data, "attendees.xlsx")

    assert_refused(result)
    assert result.file_error == "This Excel workbook cannot be read. Open it in Excel and save it again."


@pytest.mark.parametrize("filename", ["attendees.pdf", "attendees.xls", "attendees", "attendees.csv.exe", ""])
def test_a_file_that_is_not_csv_or_xlsx_is_refused(filename):
    result = read_attendees(b"%PDF-1.7\n", filename)

    assert_refused(result)
    assert "Only CSV or XLSX" in result.file_error


def test_binary_garbage_named_csv_is_refused_without_raising():
    data = bytes(range(256)) * 4

    result = read_attendees(data, "attendees.csv")

    assert_refused(result)
    assert result.file_error == "This file is not a CSV text file. Save the list in Excel as CSV or as .xlsx."


def test_an_attendee_list_with_errors_cannot_carry_attendees():
    attendee = Attendee(full_name="Иванов Иван", email="ivan@example.ru", snils=None, row=2)

    with pytest.raises(ValueError, match="all or nothing"):
        AttendeeList(attendees=[attendee], errors=[], file_error="The file is empty.")
    with pytest.raises(ValueError, match="all or nothing"):
        AttendeeList(attendees=[attendee], errors=[RowError(row=3, column="ФИО", message="x")], file_error=None)


def test_a_csv_with_a_title_row_above_the_header_is_read_with_the_rows_excel_shows():
    data = (
        "Список участников;;\n"
        "Конференция «Кардиология 2026», 27.11.2026;;\n"
        ";;\n"
        "ФИО;E-mail;СНИЛС\n"
        f"Иванов Иван;ivan@example.ru;{VALID_SNILS_TYPED}\n"
        "Петрова Анна;broken;\n"
    ).encode()

    result = read_attendees(data, "attendees.csv")

    assert result.errors == [RowError(row=6, column="E-mail", message="Not a valid e-mail address.")]


def test_an_xlsx_with_a_merged_title_above_the_header_is_read_with_the_rows_excel_shows():
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "Список участников"
    sheet.merge_cells("A1:C1")
    sheet.append(["ФИО", "E-mail", "СНИЛС"])
    sheet.append(["Иванов Иван", "ivan@example.ru", VALID_SNILS_TYPED])
    sheet.append(["Петрова Анна", "anna@example.ru", None])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = read_attendees(buffer.getvalue(), "attendees.xlsx")

    assert result.ok
    assert result.attendees == [
        Attendee(full_name="Иванов Иван", email="ivan@example.ru", snils=VALID_SNILS, row=3),
        Attendee(full_name="Петрова Анна", email="anna@example.ru", snils=None, row=4),
    ]


def test_a_header_further_down_than_the_first_rows_is_not_looked_for():
    titles = "".join(f"Строка {number}\n" for number in range(1, 11))

    result = read_attendees(f"{titles}ФИО;E-mail\nИванов Иван;ivan@example.ru\n".encode(), "attendees.csv")

    assert_refused(result)
    assert result.file_error is not None
    assert result.file_error.startswith("The header row must name the columns; missing:")
