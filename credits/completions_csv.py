"""Reading a provider's report of module completions (completion id, СНИЛС and/or e-mail, date) from CSV or XLSX.

It works as the attendee list does (`credits.attendees`, whose readers of the file itself it shares): the result
is all or nothing. `CompletionList.completions` is filled only when every row is clean, and a file with one bad
row goes back to the provider with every problem at once, so that nothing is reported for half a file.

Times without a zone are Moscow time, as the register keeps them. Row numbers are those the provider sees in
Excel: the header is row 1 and blank rows count.
"""

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.snils import normalize_snils, validate_snils

from .attendees import (
    MAX_EMAIL_LENGTH,
    SNILS_LENGTH,
    RowError,
    _decode,
    _FileError,
    _header_key,
    _is_email,
    _is_empty,
    _text,
    _too_long,
    _xlsx_rows,
)

MOSCOW: Final = ZoneInfo("Europe/Moscow")
# The length of ModuleCompletion.external_id, so that a file that reads cleanly also saves.
MAX_EXTERNAL_ID_LENGTH: Final = 100
# The service refuses completions later than this ahead of the server's clock (clocks of LMSs drift).
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# Reported synchronously in the request for now (about 5 ms a row on PostgreSQL): keep well under 30 s.
MAX_ROWS: Final = 2_000

Field = Literal["external_id", "snils", "email", "completed_at"]

# Compared after `_header_key` (case folded, ё read as е, only letters and digits kept).
_HEADER_ALIASES: Final[dict[str, Field]] = {
    "externalid": "external_id",
    "id": "external_id",
    "completionid": "external_id",
    "идентификатор": "external_id",
    "idосвоения": "external_id",
    "номеросвоения": "external_id",
    "снилс": "snils",
    "snils": "snils",
    "email": "email",
    "mail": "email",
    "элпочта": "email",
    "электроннаяпочта": "email",
    "адресэлектроннойпочты": "email",
    "почта": "email",
    "completedat": "completed_at",
    "completed": "completed_at",
    "completiondate": "completed_at",
    "датаосвоения": "completed_at",
    "датаивремяосвоения": "completed_at",
    "датавремяосвоения": "completed_at",
    "датазавершения": "completed_at",
}
_REQUIRED: Final[tuple[Field, ...]] = ("external_id", "completed_at")
_CSV_DELIMITERS: Final = (";", ",", "\t")
# Russian Excel writes "31.12.2025 14:30"; ISO 8601 is read by `datetime.fromisoformat`.
_DATE_FORMATS: Final = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y")


@dataclass(frozen=True)
class CompletionRow:
    external_id: str
    snils: str  # 11 digits or ""
    email: str  # lower case or ""
    completed_at: datetime  # aware
    row: int


@dataclass
class CompletionList:
    completions: list[CompletionRow]
    errors: list[RowError]
    file_error: str | None

    def __post_init__(self) -> None:
        if self.completions and not self.ok:
            raise ValueError("A completion report with errors carries no rows: it is reported all or nothing.")

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


def read_completions(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> CompletionList:
    """Read and check an uploaded completion report; never raises for anything in the file itself."""
    try:
        return _read_rows(_open(data, filename), max_rows=max_rows)
    except _FileError as error:
        return CompletionList(completions=[], errors=[], file_error=error.message)


def parse_completed_at(value: object) -> datetime | None:
    """A completion time from a cell: 31.12.2025 14:30, 31.12.2025, ISO 8601, or an Excel date; None if none of them."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = _text(value)
        if not text:
            return None
        moment_or_none = _strptime(text)
        if moment_or_none is None:
            try:
                moment_or_none = datetime.fromisoformat(text)
            except ValueError:
                return None
        moment = moment_or_none
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=MOSCOW)


def _strptime(text: str) -> datetime | None:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text, layout)  # naive: the caller adds the zone
        except ValueError:
            continue
    return None


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


def _csv_rows(data: bytes) -> Iterator[Sequence[object]]:
    text = _decode(data)
    delimiter = _guess_delimiter(text)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error:
        raise _FileError(_("This CSV file cannot be read. Save the list in Excel as CSV or as .xlsx.")) from None


def _guess_delimiter(text: str) -> str:
    """The delimiter under which the header names the most known columns; on a tie, the most frequent one."""
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


def _read_rows(rows: Iterator[Sequence[object]], *, max_rows: int) -> CompletionList:
    numbered = enumerate(rows, start=1)
    header = next((row for _number, row in numbered if not _is_empty(row)), None)
    if header is None:
        raise _FileError(_("The file is empty."))
    columns = _map_columns(header)

    completions: list[CompletionRow] = []
    errors: list[RowError] = []
    first_rows: dict[str, int] = {}
    latest = timezone.now() + FUTURE_TOLERANCE
    count = 0
    for number, row in numbered:
        if _is_empty(row):
            continue
        count += 1
        if count > max_rows:
            raise _FileError(
                ngettext(
                    "The file has more than %(limit)d completion. Split it into several files or use the API.",
                    "The file has more than %(limit)d completions. Split it into several files or use the API.",
                    max_rows,
                )
                % {"limit": max_rows}
            )
        completion, row_errors = _read_row(number, row, columns, first_rows, latest)
        if row_errors:
            errors.extend(row_errors)
        elif completion is not None:
            completions.append(completion)

    if count == 0:
        raise _FileError(_("The file has a header row but no completions below it."))
    if errors:
        return CompletionList(completions=[], errors=errors, file_error=None)
    return CompletionList(completions=completions, errors=[], file_error=None)


def _map_columns(header: Sequence[object]) -> dict[Field, tuple[int, str]]:
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
    if "snils" not in columns and "email" not in columns:
        missing.append("snils")
    if missing:
        raise _FileError(
            _("The first row must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(_column_title(field) for field in missing)}
        )
    return columns


def _column_title(field: Field) -> str:
    titles = {
        "external_id": _("completion id (external_id)"),
        "snils": _("СНИЛС or e-mail"),
        "email": _("e-mail"),
        "completed_at": _("completion date (completed_at)"),
    }
    return titles[field]


def _read_row(
    number: int,
    row: Sequence[object],
    columns: dict[Field, tuple[int, str]],
    first_rows: dict[str, int],
    latest: datetime,
) -> tuple[CompletionRow | None, list[RowError]]:
    """One completion, or what is wrong with the row. `first_rows` remembers where each completion id was seen."""
    errors: list[RowError] = []

    def cell(field: Field) -> object:
        if field not in columns:
            return None
        index = columns[field][0]
        return row[index] if index < len(row) else None  # a CSV row may stop short of the last columns

    def error(field: Field, message: str) -> None:
        errors.append(RowError(row=number, column=columns[field][1], message=message))

    external_id = _text(cell("external_id"))
    if not external_id:
        error("external_id", _("The completion id is empty."))
    elif len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        error("external_id", _too_long(MAX_EXTERNAL_ID_LENGTH))
    elif (first := first_rows.setdefault(external_id, number)) != number:
        error("external_id", _("Same completion id as row %(row)d.") % {"row": first})

    snils = _snils(cell("snils"))
    if snils:
        try:
            validate_snils(snils)
        except ValidationError as invalid:
            error("snils", " ".join(invalid.messages))

    email = _text(cell("email")).lower()
    if email:
        if len(email) > MAX_EMAIL_LENGTH:
            error("email", _too_long(MAX_EMAIL_LENGTH))
        elif not _is_email(email):
            error("email", _("Not a valid e-mail address."))

    if not snils and not email:
        error("snils" if "snils" in columns else "email", _("Give the doctor's СНИЛС or e-mail."))

    raw_date = cell("completed_at")
    completed_at = parse_completed_at(raw_date)
    if not _text(raw_date) and not isinstance(raw_date, date):
        error("completed_at", _("The completion date is empty."))
    elif completed_at is None:
        error(
            "completed_at",
            _("Not a date: write it as %(example)s, as %(short)s or in ISO 8601.")
            % {"example": "31.12.2025 14:30", "short": "31.12.2025"},
        )
    elif completed_at > latest:
        error("completed_at", _("The completion time is in the future."))

    if errors or completed_at is None:
        return None, errors
    return CompletionRow(external_id=external_id, snils=snils, email=email, completed_at=completed_at, row=number), []


def _snils(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return f"{raw:0{SNILS_LENGTH}d}"  # a СНИЛС typed into a number cell has lost its leading zeros
    return normalize_snils(_text(raw))
