"""A cycle form sent twice, or two overlapping cycles asked at the same instant: one cycle, a clear answer for the
others, never a 500. On the real PostgreSQL, with threads."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client

from learning_plan import services
from learning_plan.models import Cycle, CycleRule

from ..concurrency import run_at_once

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locking is PostgreSQL's; CI runs this on PostgreSQL (make test picks it when it answers)",
    ),
]


def test_ten_identical_cycle_requests_at_once_make_one_cycle_and_tell_the_others_it_overlaps(doctor, psychiatry):
    start = date(2024, 1, 15)
    outcomes = run_at_once([lambda: services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=start)] * 10)
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "cycle_overlaps": 9}, outcomes
    assert Cycle.objects.filter(doctor=doctor).count() == 1


def test_overlapping_cycles_asked_at_once_make_one_cycle(doctor, psychiatry):
    starts = [date(2024, 1, 15) + timedelta(days=30 * n) for n in range(10)]
    outcomes = run_at_once(
        [lambda s=s: services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=s) for s in starts]
    )
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "cycle_overlaps": 9}, outcomes
    assert Cycle.objects.filter(doctor=doctor).count() == 1


def test_a_cycle_form_sent_twice_at_once_gives_one_cycle_and_no_500(doctor, psychiatry):
    rule = CycleRule.objects.get(is_default=True)
    data = {"specialty": psychiatry.pk, "starts_on": "2024-01-15", "rule": rule.pk}
    clients = []
    for _ in range(2):
        client = Client(raise_request_exception=False)
        client.force_login(doctor)
        clients.append(client)
    outcomes = run_at_once([lambda c=c: c.post("/me/plan/cycles/", data).status_code for c in clients])

    assert outcomes == [("ok", 302), ("ok", 302)]
    assert Cycle.objects.filter(doctor=doctor).count() == 1
    page = clients[0].get("/me/plan/")
    assert page.status_code == 200
