"""Reads of codes for the provider's pages and exports, and the public check page."""

import csv
import io
import itertools
from collections.abc import Iterator
from typing import Any, Final

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from events.models import Event
from nmo_portal.spreadsheets import csv_cell

from .format import format_code, normalize_code
from .models import Dispute, IcpCode, IssuanceBatch, new_verify_token

# The export's columns: a provider opens it in Excel, so it speaks the interface's language, as the page does.
CODES_CSV_COLUMNS: Final = {
    "code": gettext_lazy("Code"),
    "status": gettext_lazy("Status"),
    "holder_name": gettext_lazy("Holder's name"),
    "holder_email": gettext_lazy("Holder's e-mail"),
    "activated_at": gettext_lazy("Activated at"),
    "activated_by_email": gettext_lazy("Activated by (e-mail)"),
    "email_mismatch": gettext_lazy("Activated under another e-mail"),
    "verify_url": gettext_lazy("Check page"),
}


# Rows of the export read and written at a time: the server-side cursor fetches this many, and the response
# sends them as one piece, so the export's memory does not grow with the event's codes.
EXPORT_CHUNK_ROWS: Final = 2000


def codes_csv_chunks(*, event: Event) -> Iterator[bytes]:
    """The provider's export of an event's codes as CSV, in pieces for a streaming response, in the active language
    (headers, statuses, dates) and time zone, both taken now: the pieces are made after the view returned, when
    the middleware has put back the defaults. Names and e-mails are typed by providers and attendees, so every
    text cell goes through `csv_cell`: a name such as `=HYPERLINK(…)` opens as text, not a formula.

    The rows come as tuples from a server-side cursor (`values_list(…).iterator()`), the activating account's
    e-mail by a join, never a model instance or a query per code."""
    language = translation.get_language()
    zone = timezone.get_current_timezone()
    header = [str(label) for label in CODES_CSV_COLUMNS.values()]
    statuses = {value: str(label) for value, label in IcpCode.Status.choices}
    yes = gettext("yes")
    # the check page's address as `IcpCode.verify_url` makes it, reversed once: the token is its last part
    token = new_verify_token()
    head, tail = (settings.SITE_URL + reverse("codes:verify", kwargs={"token": token})).rsplit(token, 1)
    rows = (
        IcpCode.objects.filter(event=event)
        .order_by("id")
        .values_list(
            "code", "status", "holder_name", "holder_email", "activated_at", "activated_by__email", "verify_token"
        )
        .iterator(chunk_size=EXPORT_CHUNK_ROWS)
    )

    def chunks() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(header)
        yield out.getvalue().encode("utf-8-sig")
        while batch := list(itertools.islice(rows, EXPORT_CHUNK_ROWS)):
            out.seek(0)
            out.truncate()
            with translation.override(language):
                for code, status, holder_name, holder_email, activated_at, email, verify_token in batch:
                    mismatch = bool(email and holder_email and email.lower() != holder_email.lower())
                    writer.writerow(
                        [
                            format_code(code),
                            statuses[status],
                            csv_cell(holder_name),
                            csv_cell(holder_email),
                            date_format(timezone.localtime(activated_at, zone), "DATETIME_FORMAT")
                            if activated_at
                            else "",
                            csv_cell(email or ""),
                            yes if mismatch else "",
                            head + verify_token + tail,
                        ]
                    )
            yield out.getvalue().encode("utf-8")

    return chunks()


def event_codes(*, event: Event, filters: dict[str, Any]) -> QuerySet[IcpCode]:
    codes = IcpCode.objects.filter(event=event).select_related("activated_by").order_by("id")
    if status := filters.get("status"):
        codes = codes.filter(status=status)
    if q := (filters.get("q") or "").strip():
        codes = codes.filter(Q(code=normalize_code(q)) | Q(holder_name__icontains=q) | Q(holder_email__icontains=q))
    return codes


def event_code_counts(*, event: Event) -> dict[str, int]:
    rows = IcpCode.objects.filter(event=event).values("status").annotate(n=Count("id"))
    counts = {row["status"]: row["n"] for row in rows}
    counts["total"] = sum(counts.values())
    return counts


def event_batches(*, event: Event) -> QuerySet[IssuanceBatch]:
    return IssuanceBatch.objects.filter(event=event).select_related("created_by").order_by("-created_at")


def event_disputes(*, event: Event) -> QuerySet[Dispute]:
    return Dispute.objects.filter(event=event).select_related("doctor", "code").order_by("state", "-created_at")


def doctor_disputes(*, doctor: User) -> QuerySet[Dispute]:
    return Dispute.objects.filter(doctor=doctor).order_by("-created_at")


def code_by_token(token: str) -> IcpCode | None:
    return IcpCode.objects.select_related("event__organization", "activated_by").filter(verify_token=token).first()
