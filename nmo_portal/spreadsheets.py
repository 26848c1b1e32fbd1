"""Reading the tables providers upload, CSV or XLSX: attendee lists (`codes.attendees`) and module completion
reports (`modules.completions_csv`). Each of those says which columns it knows and checks its own rows; this
module reads the file, finds the header and its columns, and numbers the rows.

Every upload is bounded before it is parsed, by the same settings (README, "Configuration"): the file's size
(`upload_bytes`, also meant for any later upload such as the portfolio's scans), for a workbook the size of every
part once unpacked, their number and their compression (read from the zip's directory before openpyxl opens
it), then, while reading, the rows, the columns and the length of a cell. A workbook is read as a stream
(openpyxl's read-only mode), so a long sheet costs time, not memory; what openpyxl parses whole (the shared
strings, the styles) is held to a smaller size.

Everything wrong with the file as a whole is a `FileError` with a translated message for the provider; what is
wrong with a row is the caller's `RowError`. Row numbers are those the provider sees in Excel: blank rows and
title rows above the header count, and a quoted CSV cell that spans lines is still one row.

The header is the first row, within the first `HEADER_SEARCH_ROWS`, that names a known column: Russian workbooks
often open with a title («Список участников», the event's name) above the real header.
"""

import codecs
import csv
import dataclasses
import io
import itertools
import logging
import posixpath
import re
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Final
from xml.etree import ElementTree

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import load_workbook

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH: Final = 254
_CSV_DELIMITERS: Final = (";", ",", "\t")
# How far down the header is looked for: a title and a line or two about the event, not a page of them, so a
# file without a header is refused after a few rows, not after reading its whole length.
HEADER_SEARCH_ROWS: Final = 10
# A workbook has a dozen parts; Excel's own files stay far below these.
MAX_ZIP_MEMBERS: Final = 200
# Spreadsheet XML deflates about 5-30 times; a part much larger than it is packed is built to explode.
MAX_COMPRESSION_RATIO: Final = 100
_RATIO_CHECKED_FROM: Final = 1024 * 1024  # small parts may be packed any way
# The first bytes of the kinds of file the portal accepts; CSV is text and has none.
SIGNATURES: Final[dict[str, tuple[bytes, ...]]] = {
    "xlsx": (b"PK\x03\x04",),
    "pdf": (b"%PDF-",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
_WORKSHEET_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# _XML_NOTE: the small parts read here are size-capped first, and the expat of Python 3.11 (2.4+) refuses
# entity expansion attacks ("billion laughs"); openpyxl parses the workbook with the same parser.
_WORKSHEET_NAME: Final = re.compile(r"xl/worksheets/[^/]+\.xml")

Row = Sequence[object]


class FileError(Exception):
    """The file as a whole cannot be used; `message` is translated, for the provider."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int  # as in Excel: rows above the header, blank or a title, count
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
    above: list[tuple[int, Row]] = []  # the non-empty rows read while looking for the header
    for number, row in numbered:
        if not is_empty(row):
            above.append((number, row))
            if _known_columns(row, aliases):
                break
        if number >= HEADER_SEARCH_ROWS:
            break
    if not above:
        raise FileError(_("The file is empty."))
    if _known_columns(above[-1][1], aliases):
        header, below = above[-1][1], []
    else:
        # No row names a known column: the first one is taken for the header, so the provider is told which
        # columns are missing.
        header, below = above[0][1], above[1:]
    columns: dict[str, tuple[int, str]] = {}
    for index, name in enumerate(header):
        field = aliases.get(header_key(name))
        if field is None:
            continue
        if field in columns:
            raise FileError(
                _("The header row names the column %(first)s and also %(second)s: keep one of them.")
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
            _("The header row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(title(field) for field in missing)}
        )
    rest = ((number, row) for number, row in numbered if not is_empty(row))
    return Table(columns=columns, rows=itertools.chain(below, rest))


def _known_columns(row: Row, aliases: Mapping[str, str]) -> set[str]:
    return {aliases[key] for key in map(header_key, row) if key in aliases}


def limited(rows: Iterator[tuple[int, Row]], *, max_rows: int, too_many: str) -> Iterator[tuple[int, Row]]:
    """`rows`, stopping with FileError(`too_many`) past `max_rows`: a file far over the limit is not read to
    its end."""
    for count, item in enumerate(rows, start=1):
        if count > max_rows:
            raise FileError(too_many)
        yield item


def upload_bytes(upload: IO[bytes], *, name: str, size: int | None, accept: Collection[str]) -> bytes:
    """The content of an uploaded file, refused with FileError when it is larger than UPLOAD_MAX_BYTES (on the
    size the upload declares, before anything is read, and again on what is read), when its extension is not in
    `accept`, or when its first bytes say it is another kind of file (`SIGNATURES`; "csv" is text: no signature).

    The one door of every upload: attendee lists, completion reports, and any file a later part accepts."""
    limit = settings.UPLOAD_MAX_BYTES
    too_large = _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
    if size is not None and size > limit:
        raise FileError(too_large)
    extension = _extension(name)
    if extension not in accept:
        raise FileError(
            _("Only these files are accepted: %(kinds)s.") % {"kinds": ", ".join(kind.upper() for kind in accept)}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise FileError(too_large)
    sniffed = next((kind for kind, heads in SIGNATURES.items() if data.startswith(heads)), None)
    if sniffed != (None if extension == "csv" else extension):
        raise FileError(_wrong_kind(extension))
    return data


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _wrong_kind(extension: str) -> str:
    if extension == "xlsx":
        return _(
            "This file is named .xlsx but is not an Excel workbook. "
            "Open it in Excel and save it again as .xlsx or as CSV."
        )
    if extension == "csv":
        return _("This file is named .csv but is an Excel workbook. Save it as CSV, or upload it as .xlsx.")
    return _("The content of this file is not what its name says (.%(extension)s).") % {"extension": extension}


def _open(data: bytes, filename: str, aliases: Mapping[str, str]) -> Iterator[Row]:
    extension = _extension(filename)
    if extension not in ("csv", "xlsx"):
        raise FileError(_("Only CSV or XLSX files are accepted. Save the list in Excel as .xlsx or as CSV."))
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise FileError(_("The file is larger than %(limit)s.") % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)})
    if data.startswith(b"PK") != (extension == "xlsx"):
        raise FileError(_wrong_kind(extension))
    if extension == "xlsx":
        _check_workbook(data)
        return _bounded(_xlsx_rows(data))
    return _bounded(_csv_rows(data, aliases))


def _bounded(rows: Iterator[Row]) -> Iterator[Row]:
    """`rows`, stopping with FileError past UPLOAD_MAX_ROWS rows (blank ones count: a sheet can skip a million
    rows in a few bytes), a row wider than UPLOAD_MAX_COLUMNS or a cell longer than UPLOAD_MAX_CELL_CHARS.
    Empty cells at a row's end are dropped: formatting a column does not make a row wide."""
    max_rows, max_columns, max_chars = (
        settings.UPLOAD_MAX_ROWS,
        settings.UPLOAD_MAX_COLUMNS,
        settings.UPLOAD_MAX_CELL_CHARS,
    )
    for number, row in enumerate(rows, start=1):
        if number > max_rows:
            raise FileError(
                ngettext(
                    "The file has more than %(limit)d row. Split it into several files.",
                    "The file has more than %(limit)d rows. Split it into several files.",
                    max_rows,
                )
                % {"limit": max_rows}
            )
        width = len(row)
        while width and (row[width - 1] is None or row[width - 1] == ""):
            width -= 1
        if width > max_columns:
            raise FileError(
                ngettext(
                    "Row %(row)d has more than %(limit)d column. Keep only the columns of the list.",
                    "Row %(row)d has more than %(limit)d columns. Keep only the columns of the list.",
                    max_columns,
                )
                % {"row": number, "limit": max_columns}
            )
        row = row[:width]
        for column, value in enumerate(row, start=1):
            if isinstance(value, str) and len(value) > max_chars:
                raise FileError(
                    ngettext(
                        "Row %(row)d, column %(column)d: the cell is longer than %(limit)d character.",
                        "Row %(row)d, column %(column)d: the cell is longer than %(limit)d characters.",
                        max_chars,
                    )
                    % {"row": number, "column": column, "limit": max_chars}
                )
        yield row


def _check_workbook(data: bytes) -> None:
    """Refuses (FileError) a workbook that would unpack to more than the settings allow, from the zip's own
    directory, before openpyxl opens it. zipfile never unpacks a part past the size the directory declares,
    so a directory that lies makes the file unreadable, not larger."""
    unusual = _(
        "This workbook is not built as spreadsheet programs save one. "
        "Open it in Excel and save it again, or save the list as CSV."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise FileError(unusual)
            for member in members:
                if member.file_size > _RATIO_CHECKED_FROM and (
                    member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
                ):
                    raise FileError(unusual)
            limit = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES
            if sum(member.file_size for member in members) > limit:
                raise FileError(
                    _("This workbook unpacks to more than %(limit)s. Save the list alone in a new workbook or as CSV.")
                    % {"limit": filesizeformat(limit)}
                )
            part_limit = settings.UPLOAD_MAX_PART_BYTES
            streamed = _streamed_parts(archive, members, part_limit)
            for member in members:
                if member.filename not in streamed and member.file_size > part_limit:
                    raise FileError(
                        _(
                            "A part of this workbook (%(part)s) unpacks to more than %(limit)s. "
                            "Save the list alone in a new workbook or as CSV."
                        )
                        % {"part": member.filename, "limit": filesizeformat(part_limit)}
                    )
    except (zipfile.BadZipFile, ElementTree.ParseError, EOFError, OSError, ValueError, KeyError) as error:
        logger.info("Unreadable XLSX upload: %r", error)
        raise FileError(_("This Excel workbook cannot be read. Open it in Excel and save it again.")) from None


def _streamed_parts(archive: zipfile.ZipFile, members: Sequence[zipfile.ZipInfo], part_limit: int) -> set[str]:
    """The parts openpyxl's read-only mode reads as a stream: worksheets, each named, declared and related only
    as one. Everything else (shared strings, styles, chart sheets ...) it parses whole; a part's name alone does
    not make it a worksheet, since the manifest and the relations decide what openpyxl takes a part for."""
    declared: dict[str, str] = {}
    related: dict[str, set[str]] = {}
    for member in members:
        if member.file_size > part_limit:
            continue  # refused by the caller, unless it is a worksheet, which this never is
        if member.filename == "[Content_Types].xml":
            for override in ElementTree.fromstring(archive.read(member)):  # noqa: S314 - see _XML_NOTE
                if override.tag.endswith("Override"):
                    declared[override.get("PartName", "").lstrip("/")] = override.get("ContentType", "")
        elif member.filename.endswith(".rels"):
            source_folder = posixpath.dirname(posixpath.dirname(member.filename))  # xl/_rels/workbook.xml.rels
            for relation in ElementTree.fromstring(archive.read(member)):  # noqa: S314 - see _XML_NOTE
                target = relation.get("Target", "")
                path = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(source_folder, target))
                )
                related.setdefault(path, set()).add(relation.get("Type", "").rsplit("/", 1)[-1])
    return {
        name
        for name, kinds in related.items()
        if kinds == {"worksheet"} and _WORKSHEET_NAME.fullmatch(name) and declared.get(name) == _WORKSHEET_TYPE
    }


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
        # One column past the limit is enough to tell a row too wide; a cell far to the right is not spread
        # into a row of thousands.
        yield from sheet.iter_rows(min_row=1, max_col=settings.UPLOAD_MAX_COLUMNS + 1, values_only=True)
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
    """The delimiter under which a row of the first few (the header, under any title) names the most known
    columns; on a tie, the most frequent one.

    Counting alone would tie on a header like "ФИО;E-mail;Организация, город, отдел".
    """
    first_lines = "".join(itertools.islice(io.StringIO(content), HEADER_SEARCH_ROWS))

    def score(delimiter: str) -> tuple[int, int]:
        try:
            reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
            known = max(
                (len(_known_columns(row, aliases)) for row in itertools.islice(reader, HEADER_SEARCH_ROWS)), default=0
            )
        except csv.Error:
            known = 0
        return (known, first_lines.count(delimiter))

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


# A cell that opens with one of these is a formula to Excel or LibreOffice (the full-width forms too, which
# spreadsheet applications fold to ASCII): provider- and attendee-typed text must stay text.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: str) -> str:
    """`text` as a CSV cell a spreadsheet shows as text: a leading quote defuses a formula (OWASP's advice)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class TableFileForm(forms.Form):
    """A form whose `file` is a table, CSV or XLSX, taken within the upload limits (`spreadsheets.upload_bytes`):
    `cleaned_data["content"]` holds its bytes, read once."""

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        try:
            self.cleaned_data["content"] = upload_bytes(
                upload, name=upload.name, size=upload.size, accept=("csv", "xlsx")
            )
        except FileError as error:
            raise forms.ValidationError(error.message, code="file_refused") from None
        return upload
