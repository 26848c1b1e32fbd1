from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from events.models import Event

from .codes import normalize_code
from .models import CreditEntry, Dispute, IcpCode, IssuanceBatch


def doctor_ledger(*, doctor: User) -> QuerySet[CreditEntry]:
    return (
        CreditEntry.objects.filter(doctor=doctor)
        .select_related("event", "module", "code")
        .order_by("-earned_on", "-created_at")
    )


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
