"""Reading a provider's report of module completions (completion id, СНИЛС and/or e-mail, date) from CSV or XLSX.

It works as the attendee list does (`codes.attendees`; the file itself is read by `nmo_portal.spreadsheets`): the
result is all or nothing. `CompletionList.completions` is filled only when every row is clean, and a file with one bad
row goes back to the provider with every problem at once, so that nothing is reported for half a file.

Times without a zone are Moscow time, as the register keeps them. Row numbers are those the provider sees in
Excel: blank rows and a title above the header count (`spreadsheets.read_table`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.snils import snils_cell, validate_snils
from nmo_portal.calendar import make_local
from nmo_portal.spreadsheets import FileError, RowError, Table, email_problem, limited, read_table, text, too_long

# The length of ModuleCompletion.external_id, so that a file that reads cleanly also saves.
MAX_EXTERNAL_ID_LENGTH: Final = 100
# The service refuses completions later than this ahead of the server's clock (clocks of LMSs drift).
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# Reported synchronously in the request for now (about 5 ms a row on PostgreSQL): keep well under 30 s.
MAX_ROWS: Final = 2_000

Field = Literal["external_id", "snils", "email", "completed_at"]

# Compared after `spreadsheets.header_key` (case folded, ё read as е, only letters and digits kept).
_HEADER_ALIASES: Final[dict[str, str]] = {
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
_REQUIRED: Final = ("external_id", "completed_at", ("snils", "email"))  # a tuple: one of them
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
        table = read_table(data, filename, aliases=_HEADER_ALIASES, required=_REQUIRED, title=_column_title)
        return _read_rows(table, max_rows=max_rows)
    except FileError as error:
        return CompletionList(completions=[], errors=[], file_error=error.message)


def parse_completed_at(value: object) -> datetime | None:
    """A completion time from a cell: 31.12.2025 14:30, 31.12.2025, ISO 8601, or an Excel date; None if none of them."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        written = text(value)
        if not written:
            return None
        moment_or_none = _strptime(written)
        if moment_or_none is None:
            try:
                moment_or_none = datetime.fromisoformat(written)
            except ValueError:
                return None
        moment = moment_or_none
    return make_local(moment)  # a time without a zone is the register's (Moscow) time


def _strptime(written: str) -> datetime | None:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(written, layout)  # naive: the caller adds the zone
        except ValueError:
            continue
    return None


def _read_rows(table: Table, *, max_rows: int) -> CompletionList:
    too_many = ngettext(
        "The file has more than %(limit)d completion. Split it into several files or use the API.",
        "The file has more than %(limit)d completions. Split it into several files or use the API.",
        max_rows,
    ) % {"limit": max_rows}
    completions: list[CompletionRow] = []
    errors: list[RowError] = []
    first_rows: dict[str, int] = {}
    latest = timezone.now() + FUTURE_TOLERANCE
    count = 0
    for number, row in limited(table.rows, max_rows=max_rows, too_many=too_many):
        count += 1
        completion, row_errors = _read_row(table, number, row, first_rows, latest)
        errors.extend(row_errors)
        if completion is not None:
            completions.append(completion)
    if count == 0:
        raise FileError(_("The file has a header row but no completions below it."))
    if errors:
        return CompletionList(completions=[], errors=errors, file_error=None)
    return CompletionList(completions=completions, errors=[], file_error=None)


def _column_title(field: str) -> str:
    titles = {
        "external_id": _("completion id (external_id)"),
        "snils": _("СНИЛС or e-mail"),
        "email": _("e-mail"),
        "completed_at": _("completion date (completed_at)"),
    }
    return titles[field]


def _read_row(
    table: Table, number: int, row: Sequence[object], first_rows: dict[str, int], latest: datetime
) -> tuple[CompletionRow | None, list[RowError]]:
    """One completion, or what is wrong with the row. `first_rows` remembers where each completion id was seen."""
    errors: list[RowError] = []
    columns = table.columns

    def cell(field: Field) -> object:
        return table.cell(row, field)

    def error(field: Field, message: str) -> None:
        errors.append(RowError(row=number, column=columns[field][1], message=message))

    external_id = text(cell("external_id"))
    if not external_id:
        error("external_id", _("The completion id is empty."))
    elif len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        error("external_id", too_long(MAX_EXTERNAL_ID_LENGTH))
    elif (first := first_rows.setdefault(external_id, number)) != number:
        error("external_id", _("Same completion id as row %(row)d.") % {"row": first})

    snils = snils_cell(cell("snils"))
    if snils:
        try:
            validate_snils(snils)
        except ValidationError as invalid:
            error("snils", " ".join(invalid.messages))

    email = text(cell("email")).lower()
    if email and (problem := email_problem(email)):
        error("email", problem)

    if not snils and not email:
        error("snils" if "snils" in columns else "email", _("Give the doctor's СНИЛС or e-mail."))

    raw_date = cell("completed_at")
    completed_at = parse_completed_at(raw_date)
    if not text(raw_date) and not isinstance(raw_date, date):
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
