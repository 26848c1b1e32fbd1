"""Reads of the credit ledger."""

from django.db.models import QuerySet

from accounts.models import User

from .models import CreditEntry


def doctor_ledger(*, doctor: User) -> QuerySet[CreditEntry]:
    return (
        CreditEntry.objects.filter(doctor=doctor)
        .select_related("event", "module", "code", "outbox")
        .order_by("-earned_on", "-created_at")
    )
