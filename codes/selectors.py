"""Reads of codes for the provider's pages and exports, and the public check page."""

import csv
import io
from collections.abc import Iterable
from typing import Any, Final

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from events.models import Event
from nmo_portal.spreadsheets import csv_cell

from .format import format_code, normalize_code
from .models import Dispute, IcpCode, IssuanceBatch

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


def codes_csv(codes: Iterable[IcpCode]) -> str:
    """The provider's export of an event's codes, in the active language (headers, statuses, dates). Names and
    e-mails are typed by providers and attendees, so every text cell goes through `csv_cell`: a name such as
    `=HYPERLINK(…)` opens as text, not a formula."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([str(label) for label in CODES_CSV_COLUMNS.values()])
    yes = gettext("yes")
    for code in codes:
        writer.writerow(
            [
                format_code(code.code),
                code.get_status_display(),
                csv_cell(code.holder_name),
                csv_cell(code.holder_email),
                date_format(timezone.localtime(code.activated_at), "DATETIME_FORMAT") if code.activated_at else "",
                csv_cell(code.activated_by_email or ""),
                yes if code.email_mismatch else "",
                code.verify_url(),
            ]
        )
    return out.getvalue()


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
