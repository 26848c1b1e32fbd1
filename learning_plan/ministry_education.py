"""What the Ministry portal holds of a doctor's education that the portal did not send it: the records read by
ministry_sync (HeldRecord), less the portal's own (matched by idempotency key or by reference), with reversals
netted, for the education table of a portfolio (`education.py`)."""

import uuid
from datetime import date

from django.db.models import Case, CharField, OuterRef, Subquery, Value, When

from accounts.models import Specialty, User
from codes.models import IcpCode
from credits.models import CreditEntry, OutboxRecord
from ministry_sync.models import HeldRecord


def _as_uuid(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _own_references(doctor: User) -> set[str]:
    """The reference the portal sends with each of the doctor's ledger rows (`source_ref` of
    ministry_sync.services.payload: the ИКП of a code's credit, `<source>:<ledger id>` of any other). Delivered
    outbox rows, and their idempotency keys, are removed after OUTBOX_RETENTION_DAYS: the reference still tells
    the Ministry's copy of a record the portal sent."""
    rows = (
        CreditEntry.objects.filter(doctor=doctor)
        .annotate(
            code_value=Case(
                When(
                    source=CreditEntry.Source.CODE,
                    then=Subquery(IcpCode.objects.filter(pk=OuterRef("source_id")).values("code")[:1]),
                ),
                default=Value(""),
                output_field=CharField(),
            )
        )
        .values_list("pk", "source", "code_value")
    )
    return {code or f"{source}:{pk}" for pk, source, code in rows}


def held_education(doctor: User, specialty: Specialty, start: date, end: date) -> list[tuple[HeldRecord, int]]:
    """What the Ministry holds that the portal did not send, with the hours of each that stand: its idempotency key
    is none of the doctor's outbox rows and its reference none the portal sends (the portal's own records are the
    register's rows). A reversal the Ministry holds (negative hours) takes its hours back from the records of the
    same reference in the same specialty, whatever its date, so that a record reversed after the period ends is
    not counted; what stands in the period, oldest first."""
    held = list(HeldRecord.objects.filter(doctor=doctor).order_by("earned_on", "id"))  # bounded by the refresh
    # Matched as UUIDs in Python: the outbox keys are UUIDs and the Ministry's keys strings, and PostgreSQL
    # compares no uuid with a varchar (SQLite stores the UUID without its hyphens).
    own = set(OutboxRecord.objects.filter(doctor=doctor).values_list("idempotency_key", flat=True))
    references = _own_references(doctor) if held else set()
    theirs = [
        record
        for record in held
        if _as_uuid(record.idempotency_key) not in own and not (record.source_ref and record.source_ref in references)
    ]
    standing: dict[tuple[str, str], int] = {}
    for record in theirs:
        group = (record.specialty_code, record.source_ref or record.idempotency_key)
        standing[group] = standing.get(group, 0) + record.hours
    found = []
    for record in theirs:
        if record.specialty_code != specialty.code or record.hours <= 0:
            continue
        group = (specialty.code, record.source_ref or record.idempotency_key)
        hours = min(record.hours, standing[group])
        if hours <= 0:
            continue
        standing[group] -= hours
        if start <= record.earned_on <= end:
            found.append((record, hours))
    return found
