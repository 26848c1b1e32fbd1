"""The catalogue's search at the scale of a country (issue 18): Russian full-text search on PostgreSQL served by
each kind's GIN index, a plain substring on SQLite, the public number; and the expert's last decisions. (The
provider filter and the pages: test_catalogue_pages.py.)"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from events.models import Event
from modules.models import Module
from review import selectors

from ..factories import EventFactory, ModuleFactory

pytestmark = pytest.mark.django_db


def catalogue(client, kind="events", **query):
    return client.get(reverse(f"{kind}:catalog"), query).content.decode()


def test_an_inflected_russian_word_finds_the_event_and_the_module(client):
    EventFactory(approved=True, title="Депрессия в общей врачебной практике")
    EventFactory(approved=True, title="Школа", programme="Разбор случаев тревожных расстройств.")
    ModuleFactory(approved=True, title="Модуль", annotation="Диагностика депрессии у пожилых.")
    EventFactory(approved=True, title="Кардиология завтра")

    page = catalogue(client, q="депрессии")
    assert "Депрессия в общей врачебной практике" in page
    assert "Кардиология завтра" not in page
    assert "Школа" in catalogue(client, q="тревожное расстройство")
    assert "Модуль" in catalogue(client, "modules", q="депрессия")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index is PostgreSQL's")
def test_the_full_text_search_reads_each_kinds_gin_index():
    """The query's vector is the index's expression: a change of one without the other falls back to computing
    a vector for every activity, which takes seconds at 60,000 events."""
    for model, index in ((Event, "event_search_idx"), (Module, "module_search_idx")):
        found = selectors.search_activities(model.objects.order_by(), "депрессии")
        sql, params = found.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan


def test_without_postgresql_the_search_matches_a_plain_substring(monkeypatch):
    """SQLite (`make run`) has no Russian stemmer: a part of a word finds it, in any case of its first letter."""
    shown = EventFactory(approved=True, title="Депрессия в общей практике")
    EventFactory(approved=True, title="Кардиология", programme="Лекции о сердце.")
    monkeypatch.setattr(selectors, "connection", SimpleNamespace(vendor="sqlite"))

    def titles(q):
        return [event.title for event in selectors.search_activities(Event.objects.approved(), q)]

    assert titles("депресс") == [shown.title]
    assert titles("Депресс") == [shown.title]
    assert titles("о серд") == ["Кардиология"]
    assert titles("депрессии") == []  # an inflected form is not a substring


def test_a_public_number_finds_its_event_however_it_is_typed(client):
    EventFactory(approved=True, title="Найденная школа", public_number="2026-000042")
    EventFactory(approved=True, title="Другая школа", public_number="2026-000043")
    for typed in ("2026-000042", "2026-42", "№ 2026 42"):
        page = catalogue(client, q=typed)
        assert "Найденная школа" in page
        assert "Другая школа" not in page


def test_the_expert_sees_their_latest_decisions_first(client, reviewer):
    now = timezone.now()
    # The oldest decisions are of the earliest events and were created first: neither order gives the latest.
    for days_ago in range(24, -1, -1):
        EventFactory(
            approved=True,
            reviewer=reviewer,
            title=f"Решение {days_ago} дн. назад",
            decided_at=now - timedelta(days=days_ago),
            starts_at=now + timedelta(days=30 - days_ago),
            ends_at=now + timedelta(days=30 - days_ago, hours=6),
        )
    client.force_login(reviewer)
    page = client.get(reverse("review:queue")).content.decode()
    assert "Решение 0 дн. назад" in page
    assert "Решение 19 дн. назад" in page
    assert "Решение 20 дн. назад" not in page
    assert page.index("Решение 0 дн. назад") < page.index("Решение 1 дн. назад")
