"""An activation's reads and writes as one PostgreSQL statement: the fast path of `code_activate`.

One data-modifying statement checks the doctor's profile (a confirmed e-mail and a СНИЛС) and the code (issued,
its event approved and ended, issued to nobody by СНИЛС or to this doctor's), claims the code, and writes the
ledger row (numbered as `credits.services.ledger_append` numbers it), its outbox row and the audit row. Run
outside a transaction it is one round trip and its own transaction; a concurrent claimant waits on the code's
row and re-checks `status = 'issued'`, and the partial unique index refuses a doctor's second code of an event
(IntegrityError), as with the ORM path. When it claims nothing, `code_activate` asks the ORM path why, and that
path decides every refusal in words.

The statement is built once, from the models' tables; what the ORM fills in from Python defaults is written
here as the ORM would write it, and `tests/codes/test_activation_paths.py` compares the rows both paths write."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import AuditEvent, DoctorProfile
from credits.models import CreditEntry, OutboxRecord
from events.models import Event

from .models import IcpCode


@cache
def statement() -> str:
    def table(model: type) -> str:
        return connection.ops.quote_name(model._meta.db_table)  # type: ignore[attr-defined]

    # only the models' own table names are formatted in; every value is a parameter
    return f"""
WITH doctor AS (
    SELECT p.snils FROM {table(DoctorProfile)} p
    WHERE p.user_id = %(user)s AND p.snils IS NOT NULL AND p.snils <> ''
      AND EXISTS (SELECT 1 FROM {table(EmailAddress)} a WHERE a.user_id = %(user)s AND a.verified)
), claimed AS (
    UPDATE {table(IcpCode)} c SET status = 'activated', activated_by_id = %(user)s, activated_at = %(now)s
    FROM {table(Event)} e, doctor d
    WHERE c.code = %(code)s AND c.status = 'issued' AND e.id = c.event_id AND e.status = 'approved'
      AND e.ends_at <= %(now)s AND (c.holder_snils = '' OR c.holder_snils = d.snils)
    RETURNING c.id, e.id AS event_id, e.title, COALESCE(e.credits_granted, 0) AS credits, e.end_date
), entry AS (
    INSERT INTO {table(CreditEntry)} (doctor_id, kind, source, source_id, credit_number, activity_kind, activity_id,
        credits, earned_on, actor_id, comment, created_at)
    SELECT %(user)s, 'credit', 'code', claimed.id,
        1 + (SELECT count(*) FROM {table(CreditEntry)} r
             WHERE r.doctor_id = %(user)s AND r.kind = 'credit' AND r.source = 'code' AND r.source_id = claimed.id
               AND EXISTS (SELECT 1 FROM {table(CreditEntry)} x WHERE x.reverses_id = r.id)),
        'event', claimed.event_id, claimed.credits, claimed.end_date, %(user)s, '', %(now)s
    FROM claimed
    RETURNING id, credit_number
), outbox AS (
    INSERT INTO {table(OutboxRecord)} (entry_id, doctor_id, idempotency_key, state, attempts, next_attempt_at,
        last_error, ministry_record_id, announce_attempts, announce_due_at, created_at)
    SELECT entry.id, %(user)s, gen_random_uuid(), 'pending', 0, %(now)s, '', '', 0, %(due)s, %(now)s FROM entry
), audit AS (
    INSERT INTO {table(AuditEvent)} (actor_id, action, object_type, object_id, object_repr, ip, details, created_at)
    SELECT %(user)s, 'code.activate', 'codes.icpcode', claimed.id::text, %(shown)s, %(ip)s::inet,
        jsonb_build_object('event', claimed.event_id, 'credits', claimed.credits), %(now)s
    FROM claimed
)
SELECT entry.id, entry.credit_number, claimed.id, claimed.event_id, claimed.title, claimed.credits, claimed.end_date
FROM claimed, entry
"""  # noqa: S608


@dataclass(frozen=True)
class Claimed:
    entry_id: int
    credit_number: int
    code_id: int
    event_id: int
    title: str
    credits: int
    earned_on: date


def claim(*, user_id: int, code: str, shown: str, ip: str | None, now: datetime, due: datetime) -> Claimed | None:
    """Run the statement; what it wrote, or None when it claimed nothing (the caller explains why)."""
    params: dict[str, int | str | datetime | None] = {
        "user": user_id,
        "code": code,
        "shown": shown,
        "ip": ip,
        "now": now,
        "due": due,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement(), params)
        row = cursor.fetchone()
    return Claimed(*row) if row is not None else None
