"""The ledger row as the API shows it, shared by the activation and the plan endpoints."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import CreditEntry


class ActivityRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)


_DATETIME = serializers.DateTimeField()


# The declared fields document the record (OpenAPI); to_representation builds it directly, because DRF copies
# a serializer's fields for every instance and this one answers every activation of a congress evening.
class CreditRecordSerializer(serializers.Serializer[CreditEntry]):
    """A row of the doctor's credit ledger: a credit or its reversal."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=CreditEntry.Kind.choices, read_only=True)
    # DRF's metaclass takes declared fields off the class, so this does not hide Field.source at run time
    source = serializers.ChoiceField(choices=CreditEntry.Source.choices, read_only=True)  # type: ignore[assignment]
    credits = serializers.IntegerField(read_only=True)
    earned_on = serializers.DateField(read_only=True)
    event = ActivityRefSerializer(allow_null=True, read_only=True)
    code = serializers.CharField(allow_null=True, read_only=True, help_text=_("The ИКП as printed, XXXX-XXXXXXXX"))
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, entry: CreditEntry) -> dict[str, Any]:
        return credit_record(entry)


def credit_record(entry: CreditEntry) -> dict[str, Any]:
    """`CreditRecordSerializer`'s JSON of `entry` as `credits.selectors.described()` leaves it (the activation
    service describes its own), as a plain dict: the activation answers with it without a serializer."""
    event = entry.activity if entry.activity_kind == "event" else None
    code = entry.source_object if entry.source == CreditEntry.Source.CODE else None
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "source": entry.source,
        "credits": entry.credits,
        "earned_on": entry.earned_on.isoformat(),
        "event": {"id": event.pk, "title": event.title} if event is not None else None,
        "code": code.display if code is not None else None,
        "created_at": _DATETIME.to_representation(entry.created_at),
    }
