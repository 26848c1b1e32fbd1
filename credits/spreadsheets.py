"""Reading the tables providers upload, CSV or XLSX: attendee lists (`credits.attendees`) and module completion
reports (`credits.completions_csv`). Each of those says which columns it knows and checks its own rows; this
module reads the file, finds the header and its columns, and numbers the rows.

Everything wrong with the file as a whole is a `FileError` with a translated message for the provider; what is
wrong with a row is the caller's `RowError`. Row numbers are those the provider sees in Excel: the header is
row 1, blank rows count, and a quoted CSV cell that spans lines is still one row.
"""

import codecs
import csv
import dataclasses
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook

from accounts.snils import normalize_snils

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH: Final = 254
SNILS_LENGTH: Final = 11
_CSV_DELIMITERS: Final = (";", ",", "\t")

Row = Sequence[object]


class FileError(Exception):
    """The file as a whole cannot be used; `message` is translated, for the provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int  # as in Excel: the header is row 1
    column: str  # the column's header as written in the file
    message: str  # translated, for the provider
    # stable for API clients (e.g. "email_repeated") and the caller's name of the column; not part of equality
    code: str = dataclasses.field(default="", compare=False)
    field: str = dataclasses.field(default="", compare=False)


@dataclass(frozen=True)
class Table:
    columns: dict[str, tuple[int, str]]  # a known column: its index, and its header as the provider wrote it
    rows: Iterator[tuple[int, Row]]  # the non-empty rows below the header, with their numbers in Excel

    def cell(self, row: Row, field: str) -> object:
        """The row's value of a known column; None when the file has no such column or the row stops short."""
        if field not in self.columns:
            return None
        index = self.columns[field][0]
        return row[index] if index < len(row) else None


def read_table(
    data: bytes,
    filename: str,
    *,
    aliases: Mapping[str, str],
    required: Sequence[str | tuple[str, ...]],
    title: Callable[[str], str],
) -> Table:
    """The header and rows of an uploaded file. `aliases` maps header names, compared after `header_key`, to
    the caller's fields. The `required` ones must be there (a tuple: one of them), or the provider is told
    every missing one, by its `title` (a tuple's first field names it); other columns are ignored. Raises
    FileError."""
    numbered = enumerate(_open(data, filename, aliases), start=1)
    header = next((row for _number, row in numbered if not is_empty(row)), None)
    if header is None:
        raise FileError(_("The file is empty."))
    columns: dict[str, tuple[int, str]] = {}
    for index, name in enumerate(header):
        field = aliases.get(header_key(name))
        if field is None:
            continue
        if field in columns:
            raise FileError(
                _("The first row names the column %(first)s and also %(second)s: keep one of them.")
                % {"first": columns[field][1], "second": text(name)}
            )
        columns[field] = (index, text(name))
    missing = [
        need[0] if isinstance(need, tuple) else need
        for need in required
        if not (set(need) & columns.keys() if isinstance(need, tuple) else need in columns)
    ]
    if missing:
        raise FileError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(title(field) for field in missing)}
        )
    return Table(columns=columns, rows=((number, row) for number, row in numbered if not is_empty(row)))


def limited(rows: Iterator[tuple[int, Row]], *, max_rows: int, too_many: str) -> Iterator[tuple[int, Row]]:
    """`rows`, stopping with FileError(`too_many`) past `max_rows`: a file far over the limit is not read to
    its end."""
    for count, item in enumerate(rows, start=1):
        if count > max_rows:
            raise FileError(too_many)
        yield item


def _open(data: bytes, filename: str, aliases: Mapping[str, str]) -> Iterator[Row]:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    is_zip = data.startswith(b"PK")
    if extension == "xlsx":
        if not is_zip:
            raise FileError(
                _(
                    "This file is named .xlsx but is not an Excel workbook. "
                    "Open it in Excel and save it again as .xlsx or as CSV."
                )
            )
        return _xlsx_rows(data)
    if extension == "csv":
        if is_zip:
            raise FileError(
                _("This file is named .csv but is an Excel workbook. Save it as CSV, or upload it as .xlsx.")
            )
        return _csv_rows(data, aliases)
    raise FileError(_("Only CSV or XLSX files are accepted. Save the list in Excel as .xlsx or as CSV."))


def _xlsx_rows(data: bytes) -> Iterator[Row]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises zip, XML, key and value errors for broken files
        logger.info("Unreadable XLSX upload: %r", error)
        raise FileError(_("This Excel workbook cannot be read. Open it in Excel and save it again.")) from None
    try:
        # The first sheet, not the active one: which sheet was open when the file was saved is an accident.
        sheet = workbook.worksheets[0]
        # Some programs write a wrong size into the sheet, and read-only mode would stop there.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(min_row=1, values_only=True)
    except Exception as error:  # noqa: BLE001 - the sheet is parsed as it is read, so the same errors come here
        logger.info("Unreadable XLSX upload: %r", error)
        raise FileError(_("This Excel workbook cannot be read. Open it in Excel and save it again.")) from None
    finally:
        workbook.close()


def _csv_rows(data: bytes, aliases: Mapping[str, str]) -> Iterator[Row]:
    content = _decode(data)
    delimiter = _guess_delimiter(content, aliases)
    try:
        # newline="" leaves line ends to the csv module, which keeps a quoted multi-line cell in one row.
        yield from csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    except csv.Error as error:
        logger.info("Unreadable CSV upload: %r", error)
        raise FileError(_("This CSV file cannot be read. Save the list in Excel as CSV or as .xlsx.")) from None


def _decode(data: bytes) -> str:
    """UTF-8 (Excel's "CSV UTF-8" adds a BOM), UTF-16 with a BOM, else cp1251: what Russian Excel writes as CSV."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1251")
    for encoding in encodings:
        try:
            content = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in content:
            return content
    raise FileError(_("This file is not a CSV text file. Save the list in Excel as CSV or as .xlsx."))


def _guess_delimiter(content: str, aliases: Mapping[str, str]) -> str:
    """The delimiter under which the header names the most known columns; on a tie, the most frequent one.

    Counting alone would tie on a header like "ФИО;E-mail;Организация, город, отдел".
    """
    first_line = next((line for line in content.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[int, int]:
        try:
            reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
            header = next((row for row in reader if not is_empty(row)), [])
        except csv.Error:
            header = []
        known = {aliases.get(header_key(name)) for name in header} - {None}
        return (len(known), first_line.count(delimiter))

    return max(_CSV_DELIMITERS, key=score)


def header_key(name: object) -> str:
    """A header name as compared with the aliases: case folded, ё read as е, and everything but letters and
    digits dropped, so "E-mail", "e_mail", "Эл. почта" and "Ф.И.О." all match."""
    return "".join(ch for ch in text(name).casefold().replace("ё", "е") if ch.isalnum())


def text(value: object) -> str:
    """A cell as text. Excel stores a number-looking cell as a number: 12.0 is read as "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def is_empty(row: Row) -> bool:
    return all(not text(value) for value in row)


def snils_cell(raw: object) -> str:
    """A СНИЛС cell normalized to its digits ("" when empty); not validated."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return f"{raw:0{SNILS_LENGTH}d}"  # a СНИЛС typed into a number cell has lost its leading zeros
    return normalize_snils(text(raw))


def email_problem(email: str) -> str | None:
    """What is wrong with a non-empty e-mail address from a cell, or None."""
    if len(email) > MAX_EMAIL_LENGTH:
        return too_long(MAX_EMAIL_LENGTH)
    try:
        validate_email(email)
    except ValidationError:
        return _("Not a valid e-mail address.")
    return None


def too_long(limit: int) -> str:
    return ngettext(
        "Longer than %(limit)d character.",
        "Longer than %(limit)d characters.",
        limit,
    ) % {"limit": limit}
