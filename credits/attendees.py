"""Reading a provider's attendee list (ФИО, e-mail, optional СНИЛС) from CSV or XLSX before codes are issued.

The result is all or nothing: `AttendeeList.attendees` is filled only when the whole file is clean. A list with
one bad row is sent back to the provider with every problem at once (`file_error`, or `errors` by row and
column), so the issuing code has nothing to filter and cannot issue codes for half a list by mistake. The file
itself is read by `credits.spreadsheets`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.snils import validate_snils

from .spreadsheets import (
    MAX_EMAIL_LENGTH,
    FileError,
    RowError,
    Table,
    email_problem,
    limited,
    read_table,
    snils_cell,
    text,
    too_long,
)

__all__ = ["MAX_EMAIL_LENGTH", "MAX_NAME_LENGTH", "Attendee", "AttendeeList", "RowError", "read_attendees"]

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
    errors: list[RowError]
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


def _read_rows(table: Table, *, max_rows: int) -> AttendeeList:
    too_many = ngettext(
        "The file has more than %(limit)d attendee. Split it into several files.",
        "The file has more than %(limit)d attendees. Split it into several files.",
        max_rows,
    ) % {"limit": max_rows}
    attendees: list[Attendee] = []
    errors: list[RowError] = []
    first_rows: dict[tuple[str, str], int] = {}
    count = 0
    for number, row in limited(table.rows, max_rows=max_rows, too_many=too_many):
        count += 1
        attendee, row_errors = _read_row(table, number, row, first_rows)
        errors.extend(row_errors)
        if attendee is not None:
            attendees.append(attendee)
    if count == 0:
        raise FileError(_("The file has a header row but no attendees below it."))
    if errors:
        return AttendeeList(attendees=[], errors=errors, file_error=None)
    return AttendeeList(attendees=attendees, errors=[], file_error=None)


def _column_title(field: str) -> str:
    titles = {"full_name": _("ФИО (full name)"), "email": _("e-mail"), "snils": _("СНИЛС")}
    return titles[field]


def _read_row(
    table: Table, number: int, row: Sequence[object], first_rows: dict[tuple[str, str], int]
) -> tuple[Attendee | None, list[RowError]]:
    """One attendee, or what is wrong with the row. `first_rows` remembers where each e-mail and СНИЛС was seen."""
    errors: list[RowError] = []

    def error(field: Field, message: str) -> None:
        errors.append(RowError(row=number, column=table.columns[field][1], message=message))

    full_name = " ".join(text(table.cell(row, "full_name")).split())
    if not full_name:
        error("full_name", _("The full name is empty."))
    elif len(full_name) > MAX_NAME_LENGTH:
        error("full_name", too_long(MAX_NAME_LENGTH))

    email = text(table.cell(row, "email")).lower()
    if not email:
        error("email", _("The e-mail address is empty."))
    elif problem := email_problem(email):
        error("email", problem)
    elif (first := first_rows.setdefault(("email", email), number)) != number:
        error("email", _("Same e-mail as row %(row)d.") % {"row": first})

    snils = snils_cell(table.cell(row, "snils")) or None
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
