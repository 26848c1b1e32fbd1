"""Two deliveries of one record at the same instant (a retry racing the original) on the real PostgreSQL."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from ministry_mock.models import ReceivedRecord

from .conftest import Ministry

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent inserts need PostgreSQL (SQLite serialises writers); make test uses it when it answers",
    ),
]


def test_concurrent_duplicates_with_one_key_store_one_record(specialist):
    barrier = threading.Barrier(2)
    responses = []
    lock = threading.Lock()

    def deliver():
        try:
            barrier.wait()
            response = Ministry(Client()).send_record("ledger-1")
        finally:
            connections.close_all()
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(response.status_code for response in responses) == [200, 201]
    assert responses[0].json() == responses[1].json()
    assert ReceivedRecord.objects.filter(idempotency_key="ledger-1").count() == 1


def test_ten_concurrent_duplicates_store_one_record(specialist):
    barrier = threading.Barrier(10)
    statuses = []
    lock = threading.Lock()

    def deliver():
        try:
            barrier.wait()
            status = Ministry(Client()).send_record("ledger-1").status_code
        finally:
            connections.close_all()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200] * 9 + [201]
    assert ReceivedRecord.objects.count() == 1
