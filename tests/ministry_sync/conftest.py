"""A real Celery worker process on a Redis broker of its own, and the Ministry mock served over HTTP; or, for
the tests that need no worker (`ministry_in_process`), the mock answering the portal's client in this process.

The broker is a separate redis-server started here on a free port, so that a test can stop it ("the
broker is unreachable") and start it again without touching the cache. The worker talks to the same
PostgreSQL test database; tests here are transactional so that it sees what they commit.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from ministry_sync import client as ministry_client
from nmo_portal.celery import app as celery_app

from ..conftest import in_ci

ROOT = Path(__file__).resolve().parents[2]
MOCK_TOKEN = "t"


def in_process_call(method, path, payload=None, headers=None, *, max_bytes=None):
    """The portal's `client.call`, answered by the mock mounted in this process (through the test client)."""
    response = Client().generic(
        method,
        f"/ministry-mock/api/v1/{path.lstrip('/')}",
        json.dumps(payload) if payload is not None else "",
        content_type="application/json",
        headers={"Authorization": f"Bearer {MOCK_TOKEN}", **(headers or {})},
    )
    if max_bytes is not None and len(response.content) > max_bytes:
        return ministry_client.Answer(response.status_code, {}, oversized=True)
    body = json.loads(response.content or b"{}")
    return ministry_client.Answer(response.status_code, body if isinstance(body, dict) else {})


class InProcessSession:
    """The portal's `client.Session`, answered in this process."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def call(self, method, path, payload=None, headers=None):
        return in_process_call(method, path, payload, headers)


@pytest.fixture
def ministry_in_process(settings, monkeypatch):
    """The Ministry mock answering the portal's client in this process: no server, no worker, any database."""
    settings.MINISTRY_API_TOKEN = MOCK_TOKEN
    monkeypatch.setattr(ministry_client, "call", in_process_call)
    monkeypatch.setattr(ministry_client, "Session", InProcessSession)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class Broker:
    """A throwaway redis-server used only as the Celery broker."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.dir = tmp
        self.process: subprocess.Popen[bytes] | None = None
        self.after_start: Callable[[], None] | None = None  # the worker's supervisor, once there is one

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, message="the broker to start")
        if self.after_start is not None:
            self.after_start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    if connection.vendor != "postgresql" or not shutil.which("redis-server"):
        message = "needs PostgreSQL (DATABASE_URL) and redis-server; make test picks them when they answer"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    broker = Broker(tmp_path_factory.mktemp("broker"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker, broker, live_server, tmp_path_factory):
    """`celery worker` as its own process, on the test database, sending to the mock at the live server. It runs
    beat inside it, as `make run` does, on a schedule file of its own (not the database, which the tests flush):
    beat's `announce_new` is how new ledger rows reach the Ministry and the doctor's inbox when tasks go
    through a broker, polled every half second here."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": broker.url,
        "REDIS_URL": settings.REDIS_URL,
        "MINISTRY_API_URL": f"{live_server.url}/ministry-mock",
        "MINISTRY_API_TOKEN": settings.MINISTRY_API_TOKEN,
        "MINISTRY_RETRY_BASE_SECONDS": "0.2",
        "MINISTRY_TIMEOUT_SECONDS": "3",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "ANNOUNCE_POLL_SECONDS": "0.5",
    }
    folder = tmp_path_factory.mktemp("worker")
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "nmo_portal",
        "worker",
        "--loglevel=INFO",
        "--pool=threads",
        "--concurrency=4",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--beat",
        "--scheduler=celery.beat:PersistentScheduler",
        f"--schedule={folder / 'beat-schedule'}",
    ]
    supervised = SupervisedWorker(command, env, folder)
    supervised.start()
    yield supervised
    supervised.stop()


class SupervisedWorker:
    """The worker process, started again if it has died, as docker-compose's `restart: unless-stopped` does in
    production: when the broker goes away while the worker acknowledges a message, kombu's Redis transport may end
    the worker ("Unrecoverable error: AttributeError: 'NoneType' object has no attribute 'hostname'", a race of
    the library's, not the portal's). What the tests check is that no record is lost or doubled across that."""

    def __init__(self, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.command, self.env, self.folder = command, env, folder
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.folder / f"worker-{self.starts}.log"
        with log.open("wb") as out:
            self.process = process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for(lambda: b"ready" in log.read_bytes() or process.poll() is not None, 60, message="the worker")
        if process.poll() is not None:
            raise RuntimeError("the Celery worker did not start:\n" + log.read_text(errors="replace"))

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def real_broker(worker, broker, live_server, settings):
    """Tasks go through the broker to the worker process instead of running in this process."""
    celery_app.conf.task_always_eager = False
    _use_broker(broker.url)
    # What an earlier test left queued (its retries, beat's re-sends sped up) is not this test's to wait behind.
    celery_app.control.purge()
    settings.MINISTRY_API_URL = f"{live_server.url}/ministry-mock"
    worker.ensure_running()
    broker.after_start = worker.ensure_running  # a broker stopped by the test may have ended it (SupervisedWorker)
    yield broker
    celery_app.conf.task_always_eager = True
    if not broker.answers():
        broker.start()
    broker.after_start = None


def _use_broker(url: str) -> None:
    """Point this process's producer at `url`, dropping connections pooled for an earlier broker."""
    celery_app.conf.broker_url = url
    celery_app._pool = None  # not closed: kombu's shared producer pools may still hold it
    celery_app.amqp._producer_pool = None
