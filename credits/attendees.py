"""Reading a provider's attendee list (ФИО, e-mail, optional СНИЛС) from CSV or XLSX before codes are issued.

The result is all or nothing: `AttendeeList.attendees` is filled only when the whole file is clean. A list with
one bad row is sent back to the provider with every problem at once (`file_error`, or `errors` by row and
column), so the issuing code has nothing to filter and cannot issue codes for half a list by mistake.

Row numbers are those the provider sees in Excel: the header is row 1, blank rows count, and a quoted CSV
cell that spans lines is still one row.
"""

import codecs
import csv
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook

from accounts.snils import normalize_snils, validate_snils

logger = logging.getLogger(__name__)

# The lengths of IcpCode.holder_name and holder_email, so that a list that reads cleanly also saves.
MAX_NAME_LENGTH: Final = 300
MAX_EMAIL_LENGTH: Final = 254
SNILS_LENGTH: Final = 11

Field = Literal["full_name", "email", "snils"]

# Header names as providers write them, compared after `_header_key`: case folded, ё read as е, and
# everything but letters and digits dropped, so "E-mail", "e_mail", "Эл. почта" and "Ф.И.О." all match.
_HEADER_ALIASES: Final[dict[str, Field]] = {
    "фио": "full_name",
    "фамилияимяотчество": "full_name",
    "fullname": "full_name",
    "name": "full_name",
    "email": "email",
    "mail": "email",
    "элпочта": "email",
    "электроннаяпочта": "email",
    "адресэлектроннойпочты": "email",
    "почта": "email",
    "снилс": "snils",
    "snils": "snils",
}
_REQUIRED: Final[tuple[Field, ...]] = ("full_name", "email")
_CSV_DELIMITERS: Final = (";", ",", "\t")


@dataclass(frozen=True)
class Attendee:
    full_name: str
    email: str  # lower case
    snils: str | None  # 11 digits, or None when the file gives none
    row: int


@dataclass(frozen=True)
class RowError:
    row: int  # as in Excel: the header is row 1
    column: str  # the column's header as written in the file
    message: str  # translated, for the provider


@dataclass
class AttendeeList:
    attendees: list[Attendee]
    errors: list[RowError]
    file_error: str | None

    def __post_init__(self) -> None:
        if self.attendees and not self.ok:
            raise ValueError("An attendee list with errors carries no attendees: issuance is all or nothing.")

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


class _FileError(Exception):
    """The file as a whole cannot be read; `message` is translated, for the provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_attendees(data: bytes, filename: str, *, max_rows: int = 50_000) -> AttendeeList:
    """Read and check an uploaded attendee list; never raises for anything in the file itself.

    `max_rows` counts attendees, i.e. non-empty rows below the header.
    """
    try:
        return _read_rows(_open(data, filename), max_rows=max_rows)
    except _FileError as error:
        return AttendeeList(attendees=[], errors=[], file_error=error.message)


def _open(data: bytes, filename: str) -> Iterator[Sequence[object]]:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    is_zip = data.startswith(b"PK")
    if extension == "xlsx":
        if not is_zip:
            raise _FileError(
                _(
                    "This file is named .xlsx but is not an Excel workbook. "
                    "Open it in Excel and save it again as .xlsx or as CSV."
                )
            )
        return _xlsx_rows(data)
    if extension == "csv":
        if is_zip:
            raise _FileError(
                _("This file is named .csv but is an Excel workbook. Save it as CSV, or upload it as .xlsx.")
            )
        return _csv_rows(data)
    raise _FileError(_("Only CSV or XLSX files are accepted. Save the list in Excel as .xlsx or as CSV."))


def _xlsx_rows(data: bytes) -> Iterator[Sequence[object]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors for broken files
        logger.info("Unreadable XLSX attendee list: %r", error)
        raise _FileError(_("This Excel workbook cannot be read. Open it in Excel and save it again.")) from None
    try:
        # The first sheet, not the active one: which sheet was open when the file was saved is an accident.
        sheet = workbook.worksheets[0]
        # Some programs write a wrong size into the sheet, and read-only mode would stop there.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(min_row=1, values_only=True)
    except Exception as error:  # noqa: BLE001 - the sheet is parsed as it is read, so the same errors come here
        logger.info("Unreadable XLSX attendee list: %r", error)
        raise _FileError(_("This Excel workbook cannot be read. Open it in Excel and save it again.")) from None
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[Sequence[object]]:
    text = _decode(data)
    delimiter = _guess_delimiter(text)
    try:
        # newline="" leaves line ends to the csv module, which keeps a quoted multi-line cell in one row.
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        logger.info("Unreadable CSV attendee list: %r", error)
        raise _FileError(_("This CSV file cannot be read. Save the list in Excel as CSV or as .xlsx.")) from None


def _decode(data: bytes) -> str:
    """UTF-8 (Excel's "CSV UTF-8" adds a BOM), UTF-16 with a BOM, else cp1251: what Russian Excel writes as CSV."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1251")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _FileError(_("This file is not a CSV text file. Save the list in Excel as CSV or as .xlsx."))


def _guess_delimiter(text: str) -> str:
    """The delimiter under which the header names the most known columns; on a tie, the most frequent one.

    Counting alone would tie on a header like "ФИО;E-mail;Организация, город, отдел".
    """
    first_line = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            header = next((row for row in reader if not _is_empty(row)), [])
        except csv.Error:
            header = []
        known = {_HEADER_ALIASES.get(_header_key(name)) for name in header} - {None}
        return (len(known), first_line.count(delimiter))

    return max(_CSV_DELIMITERS, key=score)


def _header_key(name: object) -> str:
    return "".join(ch for ch in _text(name).casefold().replace("ё", "е") if ch.isalnum())


def _text(value: object) -> str:
    """A cell as text. Excel stores a number-looking cell as a number: 12.0 is read as "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_empty(row: Sequence[object]) -> bool:
    return all(not _text(value) for value in row)


def _read_rows(rows: Iterator[Sequence[object]], *, max_rows: int) -> AttendeeList:
    numbered = enumerate(rows, start=1)
    header = next((row for _number, row in numbered if not _is_empty(row)), None)
    if header is None:
        raise _FileError(_("The file is empty."))
    columns = _map_columns(header)

    attendees: list[Attendee] = []
    errors: list[RowError] = []
    first_rows: dict[tuple[Field, str], int] = {}
    count = 0
    for number, row in numbered:
        if _is_empty(row):
            continue
        count += 1
        if count > max_rows:
            # Stop here: a file far over the limit is not read to its end.
            raise _FileError(
                ngettext(
                    "The file has more than %(limit)d attendee. Split it into several files.",
                    "The file has more than %(limit)d attendees. Split it into several files.",
                    max_rows,
                )
                % {"limit": max_rows}
            )
        attendee, row_errors = _read_row(number, row, columns, first_rows)
        if row_errors:
            errors.extend(row_errors)
        elif attendee is not None:
            attendees.append(attendee)

    if count == 0:
        raise _FileError(_("The file has a header row but no attendees below it."))
    if errors:
        return AttendeeList(attendees=[], errors=errors, file_error=None)
    return AttendeeList(attendees=attendees, errors=[], file_error=None)


def _map_columns(header: Sequence[object]) -> dict[Field, tuple[int, str]]:
    """Where each known column is, and its header as the provider wrote it; extra columns are ignored."""
    columns: dict[Field, tuple[int, str]] = {}
    for index, name in enumerate(header):
        field = _HEADER_ALIASES.get(_header_key(name))
        if field is None:
            continue
        if field in columns:
            raise _FileError(
                _("The first row names the column %(first)s and also %(second)s: keep one of them.")
                % {"first": columns[field][1], "second": _text(name)}
            )
        columns[field] = (index, _text(name))
    missing = [field for field in _REQUIRED if field not in columns]
    if missing:
        raise _FileError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(_column_title(field) for field in missing)}
        )
    return columns


def _column_title(field: Field) -> str:
    titles = {"full_name": _("ФИО (full name)"), "email": _("e-mail"), "snils": _("СНИЛС")}
    return titles[field]


def _read_row(
    number: int,
    row: Sequence[object],
    columns: dict[Field, tuple[int, str]],
    first_rows: dict[tuple[Field, str], int],
) -> tuple[Attendee | None, list[RowError]]:
    """One attendee, or what is wrong with the row. `first_rows` remembers where each e-mail and СНИЛС was seen."""
    errors: list[RowError] = []

    def cell(field: Field) -> object:
        index = columns[field][0]
        return row[index] if index < len(row) else None  # a CSV row may stop short of the last columns

    def error(field: Field, message: str) -> None:
        errors.append(RowError(row=number, column=columns[field][1], message=message))

    full_name = " ".join(_text(cell("full_name")).split())
    if not full_name:
        error("full_name", _("The full name is empty."))
    elif len(full_name) > MAX_NAME_LENGTH:
        error("full_name", _too_long(MAX_NAME_LENGTH))

    email = _text(cell("email")).lower()
    if not email:
        error("email", _("The e-mail address is empty."))
    elif len(email) > MAX_EMAIL_LENGTH:
        error("email", _too_long(MAX_EMAIL_LENGTH))
    elif not _is_email(email):
        error("email", _("Not a valid e-mail address."))
    elif (first := first_rows.setdefault(("email", email), number)) != number:
        error("email", _("Same e-mail as row %(row)d.") % {"row": first})

    snils: str | None = None
    if "snils" in columns:
        raw = cell("snils")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            # A СНИЛС typed into a number cell has lost its leading zeros.
            snils = f"{raw:0{SNILS_LENGTH}d}"
        else:
            snils = normalize_snils(_text(raw)) or None
        if snils is not None:
            try:
                validate_snils(snils)
            except ValidationError as invalid:
                error("snils", " ".join(invalid.messages))
            else:
                if (first := first_rows.setdefault(("snils", snils), number)) != number:
                    error("snils", _("Same СНИЛС as row %(row)d.") % {"row": first})

    if errors:
        return None, errors
    return Attendee(full_name=full_name, email=email, snils=snils, row=number), []


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _too_long(limit: int) -> str:
    return ngettext(
        "Longer than %(limit)d character.",
        "Longer than %(limit)d characters.",
        limit,
    ) % {"limit": limit}
