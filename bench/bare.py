"""The baselines, shared by their two servings (before Django in `bench.wsgi`, inside it in `bench.urls`).

`bench/activate.py`: one conditional UPDATE that claims the code and one INSERT of the ledger row.

`bench/plan.py`: one SELECT of the doctor's ledger rows with what the plan shows of each (the activity's
title, the code, the outbox state), rendered as a bare HTML table by string formatting.

Imports nothing of Django's, so that `bench.wsgi` may import it before the app loads."""

from collections.abc import Sequence
from html import escape
from typing import Any

CLAIM_SQL = (
    "UPDATE codes_icpcode SET status = 'activated', activated_by_id = %s, activated_at = now() "
    "WHERE code = %s AND status = 'issued' RETURNING id, event_id"
)
CREDIT_SQL = (
    "INSERT INTO credits_creditentry "
    "(doctor_id, kind, source, source_id, activity_kind, activity_id, credits, earned_on, actor_id, comment, "
    "created_at) "
    "SELECT %s, 'credit', 'code', %s, 'event', e.id, e.credits_granted, (e.ends_at AT TIME ZONE %s)::date, %s, '', "
    "now() "
    "FROM events_event e WHERE e.id = %s RETURNING id, credits, earned_on"
)

LEDGER_SQL = (
    "SELECT c.id, c.earned_on, c.credits, c.source, COALESCE(e.title, m.title, c.comment), ic.code, o.state "
    "FROM credits_creditentry c "
    "LEFT JOIN events_event e ON c.activity_kind = 'event' AND e.id = c.activity_id "
    "LEFT JOIN modules_module m ON c.activity_kind = 'module' AND m.id = c.activity_id "
    "LEFT JOIN codes_icpcode ic ON c.source = 'code' AND ic.id = c.source_id "
    "LEFT JOIN credits_outboxrecord o ON o.entry_id = c.id "
    "WHERE c.doctor_id = %s ORDER BY c.earned_on, c.id"
)


def ledger_page(rows: Sequence[Sequence[Any]]) -> bytes:
    cells = "".join(
        f"<tr><td>{earned_on:%d.%m.%Y}</td><td>{escape(title or '')}</td><td>{escape(source)} {code or ''}</td>"
        f"<td>{credits}</td><td>{state or ''}</td></tr>"
        for _id, earned_on, credits, source, title, code, state in rows
    )
    return f"<!DOCTYPE html><html lang=ru><title>План обучения</title><table>{cells}</table></html>".encode()
