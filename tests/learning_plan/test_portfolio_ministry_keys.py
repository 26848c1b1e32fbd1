"""The education table leaves out the Ministry's copy of a record the portal sent, by idempotency key, on
PostgreSQL (where the outbox's key is a UUID and the Ministry's is text) as on SQLite."""

from datetime import timedelta

import pytest

from codes import services as code_services
from credits.models import OutboxRecord
from learning_plan.education import Origin, education_items
from ministry_sync.models import HeldRecord
from nmo_portal.calendar import today

pytestmark = pytest.mark.django_db


def test_a_record_the_portal_sent_is_listed_once_and_the_ministrys_own_record_too(
    ended_event, make_codes, doctor, psychiatry
):
    (code,) = make_codes(ended_event)
    code_services.code_activate(user=doctor, raw=code.code, ip=None)
    sent = OutboxRecord.objects.get(doctor=doctor)
    earned_on = today() - timedelta(days=1)
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key=str(sent.idempotency_key),
        kind=HeldRecord.Kind.EVENTS,
        hours=12,
        title=ended_event.title,
        earned_on=earned_on,
        specialty_code=psychiatry.code,
    )
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key="ministry-own-1",
        kind=HeldRecord.Kind.PROGRAMME,
        hours=36,
        title="Программа повышения квалификации",
        earned_on=earned_on,
        specialty_code=psychiatry.code,
    )

    items = education_items(doctor, psychiatry, today() - timedelta(days=30), today())

    assert sorted((item.origin, item.title, item.hours) for item in items) == [
        (Origin.MINISTRY, "Программа повышения квалификации", 36),
        (Origin.REGISTER, ended_event.title, 12),
    ]


def test_a_record_sent_long_ago_is_still_listed_once_after_its_outbox_row_is_removed(
    ended_event, make_codes, doctor, psychiatry
):
    """Delivered outbox rows go after OUTBOX_RETENTION_DAYS, and their idempotency keys with them; the
    Ministry's copy still carries the portal's reference (the ИКП), so the credit is not counted twice."""
    (code,) = make_codes(ended_event)
    code_services.code_activate(user=doctor, raw=code.code, ip=None)
    sent = OutboxRecord.objects.get(doctor=doctor)
    earned_on = today() - timedelta(days=1)
    HeldRecord.objects.create(
        doctor=doctor,
        idempotency_key=str(sent.idempotency_key),
        kind=HeldRecord.Kind.EVENTS,
        hours=12,
        title=ended_event.title,
        earned_on=earned_on,
        specialty_code=psychiatry.code,
        source_ref=code.code,
    )
    HeldRecord.objects.create(  # another doctor's code, or anything else: the Ministry's own record
        doctor=doctor,
        idempotency_key="ministry-own-2",
        kind=HeldRecord.Kind.EVENTS,
        hours=6,
        title="Конференция",
        earned_on=earned_on,
        specialty_code=psychiatry.code,
        source_ref="ABCDEF-GHJKLM-N",
    )
    OutboxRecord.objects.filter(pk=sent.pk).delete()

    items = education_items(doctor, psychiatry, today() - timedelta(days=30), today())

    assert sorted((item.origin, item.title, item.hours) for item in items) == [
        (Origin.MINISTRY, "Конференция", 6),
        (Origin.REGISTER, ended_event.title, 12),
    ]
