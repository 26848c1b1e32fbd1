"""Reading a provider's attendee list (ФИО, e-mail, optional СНИЛС) from CSV or XLSX before codes are issued.

The same rules check a list given to the API (`read_attendee_rows`), with the same messages and stable codes.

The result is all or nothing: `AttendeeList.attendees` is filled only when the whole file is clean. A list with
one bad row is sent back to the provider with every problem at once (`file_error`, or `errors` by row and
column), so the issuing code has nothing to filter and cannot issue codes for half a list by mistake. The file
itself is read by `nmo_portal.spreadsheets`.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.snils import snils_cell, validate_snils
from nmo_portal.errors import PortalError
from nmo_portal.spreadsheets import (
    MAX_EMAIL_LENGTH,
    FileError,
    RowError,
    Table,
    email_problem,
    limited,
    read_table,
    text,
    too_long,
)

__all__ = [
    "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
    "Attendee",
    "AttendeeList",
    "AttendeesInvalid",
    "RowError",
    "read_attendee_rows",
    "read_attendees",
    "require_clean",
]

# The length of IcpCode.holder_name (holder_email: MAX_EMAIL_LENGTH), so that a list that reads cleanly saves.
MAX_NAME_LENGTH: Final = 300

Field = Literal["full_name", "email", "snils"]

# Header names as providers write them, compared after `spreadsheets.header_key`.
_HEADER_ALIASES: Final[dict[str, str]] = {
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
_REQUIRED: Final = ("full_name", "email")


@dataclass(frozen=True)
class Attendee:
    full_name: str
    email: str  # lower case
    snils: str | None  # 11 digits, or None when the file gives none
    row: int


@dataclass
class AttendeeList:
    attendees: list[Attendee]
    errors: Sequence[RowError]
    file_error: str | None

    def __post_init__(self) -> None:
        if self.attendees and not self.ok:
            raise ValueError("An attendee list with errors carries no attendees: issuance is all or nothing.")

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors


def read_attendees(data: bytes, filename: str, *, max_rows: int = 50_000) -> AttendeeList:
    """Read and check an uploaded attendee list; never raises for anything in the file itself.

    `max_rows` counts attendees, i.e. non-empty rows below the header.
    """
    try:
        table = read_table(data, filename, aliases=_HEADER_ALIASES, required=_REQUIRED, title=_column_title)
        return _read_rows(table, max_rows=max_rows)
    except FileError as error:
        return AttendeeList(attendees=[], errors=[], file_error=error.message)


def read_attendee_rows(rows: Sequence[Mapping[str, object]], *, max_rows: int = 50_000) -> AttendeeList:
    """Check attendees given as records (the API's `{"full_name", "email", "snils"}`) with the rules and the
    messages of a file. Rows are numbered from 1 in the order given; a problem's `column` is the field name."""
    if len(rows) > max_rows:
        too_many = ngettext(
            "The list has more than %(limit)d attendee. Split it into several requests.",
            "The list has more than %(limit)d attendees. Split it into several requests.",
            max_rows,
        ) % {"limit": max_rows}
        return AttendeeList(attendees=[], errors=[], file_error=too_many)
    check = _Checker(column=lambda field: field)
    for number, row in enumerate(rows, start=1):
        check.row(number, full_name=row.get("full_name"), email=row.get("email"), snils=row.get("snils"))
    return check.result()


class AttendeesInvalid(PortalError):
    """An attendee list with problems: nothing is issued. `problems` say where and what, each with its code."""

    def __init__(self, report: AttendeeList) -> None:
        super().__init__(
            report.file_error or _("The attendee list has errors; no codes were issued."),
            code="attendees_invalid",
        )
        self.problems = report.errors


def require_clean(report: AttendeeList) -> list[Attendee]:
    if not report.ok:
        raise AttendeesInvalid(report)
    return report.attendees


def _read_rows(table: Table, *, max_rows: int) -> AttendeeList:
    too_many = ngettext(
        "The file has more than %(limit)d attendee. Split it into several files.",
        "The file has more than %(limit)d attendees. Split it into several files.",
        max_rows,
    ) % {"limit": max_rows}
    check = _Checker(column=lambda field: table.columns[field][1] if field in table.columns else _column_title(field))
    count = 0
    for number, row in limited(table.rows, max_rows=max_rows, too_many=too_many):
        count += 1
        check.row(
            number,
            full_name=table.cell(row, "full_name"),
            email=table.cell(row, "email"),
            snils=table.cell(row, "snils"),
        )
    if count == 0:
        raise FileError(_("The file has a header row but no attendees below it."))
    return check.result()


def _column_title(field: str) -> str:
    titles = {"full_name": _("ФИО (full name)"), "email": _("e-mail"), "snils": _("СНИЛС")}
    return titles[field]


class _Checker:
    """The one set of rules for an attendee, whichever door the list came through (a file or the API).
    It remembers where each e-mail and СНИЛС was first seen, so a repeat names the first row."""

    def __init__(self, *, column: Callable[[Field], str]) -> None:
        self.column = column
        self.attendees: list[Attendee] = []
        self.errors: list[RowError] = []
        self.first_rows: dict[tuple[str, str], int] = {}

    def row(self, number: int, *, full_name: object, email: object, snils: object) -> None:
        errors: list[RowError] = []

        def error(field: Field, code: str, message: str) -> None:
            errors.append(RowError(row=number, column=self.column(field), message=message, field=field, code=code))

        name = " ".join(text(full_name).split())
        if not name:
            error("full_name", "full_name_missing", _("The full name is empty."))
        elif len(name) > MAX_NAME_LENGTH:
            error("full_name", "full_name_too_long", too_long(MAX_NAME_LENGTH))

        address = text(email).lower()
        if not address:
            error("email", "email_missing", _("The e-mail address is empty."))
        elif problem := email_problem(address):
            error("email", "email_invalid", problem)
        elif (first := self.first_rows.setdefault(("email", address), number)) != number:
            error("email", "email_repeated", _("Same e-mail as row %(row)d.") % {"row": first})

        digits = snils_cell(snils) or None
        if digits is not None:
            try:
                validate_snils(digits)
            except ValidationError as invalid:
                error("snils", "snils_invalid", " ".join(invalid.messages))
            else:
                if (first := self.first_rows.setdefault(("snils", digits), number)) != number:
                    error("snils", "snils_repeated", _("Same СНИЛС as row %(row)d.") % {"row": first})

        if errors:
            self.errors.extend(errors)
        else:
            self.attendees.append(Attendee(full_name=name, email=address, snils=digits, row=number))

    def result(self) -> AttendeeList:
        if self.errors:
            return AttendeeList(attendees=[], errors=list(self.errors), file_error=None)
        return AttendeeList(attendees=self.attendees, errors=[], file_error=None)
