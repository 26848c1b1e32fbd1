"""Delivering 10,000 ledger records to the Ministry: one Celery worker process pushes the outbox to the
Ministry mock running alone under gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/sync.py

Goal: one worker process delivers 10,000 pending outbox records in at most 60 s, and the mock then holds
exactly 10,000 received records, one per outbox row (no duplicates, nothing failed).

Setup, in a throwaway copy of the bench database: 100 doctors (СНИЛС, psychiatry, a linked Ministry
account) who each activated a code of each of 100 approved psychiatry events; the 10,000 ledger rows and
their pending outbox rows are written in bulk (as `ledger_append` writes them, without enqueueing), and the
mock knows each doctor as a specialist with a psychiatry cycle. Then, for each worker configuration in
turn (`--configs`, default prefork:1, solo:1, threads:8), the outbox is made pending again and the mock
emptied, a worker starts (`celery -A nmo_portal worker --pool=… --concurrency=…`) and answers a ping, and
the clock starts: the bench process enqueues `push_credit_records` in batches of 100, as `link_perform` does
once an account is linked, and polls the database until every row is delivered and the mock has every
record. The broker is a throwaway redis-server on a free port; the worker, gunicorn and redis-server are
always stopped at the end.
"""

import argparse
import cProfile
import io
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

SECONDS_GOAL = 60.0
PSYCHIATRY = "31.08.20"


@dataclass(frozen=True)
class Config:
    pool: str
    concurrency: int

    @property
    def label(self) -> str:
        return f"--pool={self.pool} --concurrency={self.concurrency}"

    @property
    def single(self) -> bool:
        """One task at a time in one worker: what the goal is about."""
        return self.concurrency == 1


def parse_configs(text: str) -> list[Config]:
    configs = []
    for item in text.split(","):
        pool, _colon, concurrency = item.strip().partition(":")
        if pool not in ("prefork", "solo", "threads"):
            raise argparse.ArgumentTypeError(f"unknown pool {pool!r}: prefork, solo or threads")
        configs.append(Config(pool, int(concurrency or 1)))
    return configs


@dataclass
class Run:
    config: Config
    enqueue_seconds: float = 0.0
    seconds: float = 0.0
    finished: bool = False
    delivered: int = 0
    failed: int = 0
    received: int = 0
    distinct_keys: int = 0
    distinct_refs: int = 0
    matched: int = 0
    attempts: int = 0
    timeline: list[tuple[float, int]] = field(default_factory=list)
    cpu: Counter[str] = field(default_factory=Counter)
    machine_busy: float = 0.0
    machine_all: float = 0.0
    worker_log: str = ""
    worker_exit: int | None = None  # the worker's exit code, when it exited before it was stopped

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


# Servers.


def start_redis(port: int, scratch: Path) -> subprocess.Popen[bytes]:
    """A redis-server of the bench's own: no persistence, gone with the run."""
    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(scratch),
    ]
    process = harness.start_process(command, env={}, log=scratch / "redis.log")
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            if redis.Redis(port=port, socket_connect_timeout=1).ping():
                return process
        except redis.exceptions.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("redis-server did not answer in time")


def start_worker(config: Config, *, env: dict[str, str], log: Path, node: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "nmo_portal",
        "worker",
        f"--pool={config.pool}",
        f"--concurrency={config.concurrency}",
        "--loglevel=WARNING",
        f"--hostname={node}",
        # One worker: nobody to gossip or mingle with, and no monitor listening to heartbeats.
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    return harness.start_process(command, env=env, log=log)


def wait_worker(node: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    """Until the worker answers a broadcast ping; returns the seconds it took to start."""
    from nmo_portal.celery import app

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        if app.control.ping(destination=[node], timeout=0.5):
            return time.monotonic() - began
    raise RuntimeError("the Celery worker did not answer a ping in time")


# Data.


@dataclass
class Fixture:
    outbox_ids: list[int]
    doctors: int
    seconds: float


def build(*, records: int, doctors: int) -> Fixture:
    """Doctors with linked accounts who are specialists at the mock, and their ledger with pending outbox rows:
    doctor d holds a code of each of the `records / doctors` events."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import DoctorProfile, Specialty
    from bench import data
    from credits.models import CreditEntry
    from ministry_mock.models import Specialist, SpecialistCycle
    from ministry_sync.models import MinistryLink

    began = time.perf_counter()
    per_doctor = -(-records // doctors)
    tag = data.run_tag()
    organization, _member = data.provider(tag)
    psychiatry = Specialty.objects.get(code=PSYCHIATRY)
    signed = data.signed_in_doctors(doctors, tag)
    ids = [doctor.user_id for doctor in signed]
    profiles = list(DoctorProfile.objects.filter(user_id__in=ids).order_by("user_id"))
    through = DoctorProfile.specialties.through
    through.objects.bulk_create([through(doctorprofile_id=p.pk, specialty_id=psychiatry.pk) for p in profiles])
    now = timezone.now()
    MinistryLink.objects.bulk_create(
        [
            MinistryLink(
                doctor_id=p.user_id,
                login=f"bench-{tag}-{i}",
                state=MinistryLink.State.LINKED,
                specialist_id=str(i),
                linked_at=now,
            )
            for i, p in enumerate(profiles)
        ]
    )
    today = timezone.localdate()
    specialists = Specialist.objects.bulk_create(
        [
            Specialist(snils=p.snils or "", login=f"bench-{tag}-{i}", full_name=f"Иванов Бенч{i}")
            for i, p in enumerate(profiles)
        ],
        batch_size=2000,
    )
    SpecialistCycle.objects.bulk_create(
        [
            SpecialistCycle(
                specialist=s,
                specialty_code=PSYCHIATRY,
                starts_on=today - timedelta(days=3 * 365),
                ends_on=today + timedelta(days=2 * 365),
            )
            for s in specialists
        ],
        batch_size=2000,
    )
    events = data.approved_events(
        organization,
        n=per_doctor,
        tag=tag,
        specialties=[psychiatry],
        ended_days_ago=[10 + i % 700 for i in range(per_doctor)],
    )
    pairs = [(event, doctor_id) for doctor_id in ids for event in events][:records]
    codes = data.activated_codes(pairs)
    entries = [
        CreditEntry(
            doctor_id=doctor_id,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.CODE,
            source_id=code.pk,
            activity_kind="event",
            activity_id=event.pk,
            credits=event.credits_granted or 0,
            earned_on=event.end_date,
            actor_id=doctor_id,
        )
        for (event, doctor_id), code in zip(pairs, codes, strict=True)
    ]
    _entries, outbox = data.ledger_with_outbox(entries)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as autovacuum would have them in production
    return Fixture([record.pk for record in outbox], doctors, time.perf_counter() - began)


def reset(outbox_ids: list[int], *, broker: str | None = None) -> None:
    """Every row pending again with no attempts, the mock without records and the broker without the
    messages a stopped run left: a fresh start for a worker."""
    import redis
    from django.db import connection

    if broker:
        redis.Redis.from_url(broker).flushdb()

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credits_outboxrecord SET state = 'pending', attempts = 0, next_attempt_at = now(), "
            "last_error = '', ministry_record_id = '', delivered_at = NULL WHERE id = ANY(%s)",
            [outbox_ids],
        )
        cursor.execute("DELETE FROM ministry_mock_receivedrecord")
        cursor.execute("VACUUM ANALYZE credits_outboxrecord, ministry_mock_receivedrecord")


def progress(outbox_ids: list[int]) -> tuple[int, int, int]:
    """(delivered, failed, received at the mock)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE state = 'delivered'), count(*) FILTER (WHERE state = 'failed') "
            "FROM credits_outboxrecord WHERE id = ANY(%s)",
            [outbox_ids],
        )
        delivered, failed = cursor.fetchone() or (0, 0)
        cursor.execute("SELECT count(*) FROM ministry_mock_receivedrecord")
        (received,) = cursor.fetchone() or (0,)
    return delivered, failed, received


def check(run: Run, outbox_ids: list[int]) -> None:
    """What the mock holds against the outbox: one record per row, under the row's key, with the row's id."""
    from django.db import connection

    run.delivered, run.failed, run.received = progress(outbox_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT idempotency_key), count(DISTINCT source_ref) FROM ministry_mock_receivedrecord"
        )
        run.distinct_keys, run.distinct_refs = cursor.fetchone() or (0, 0)
        cursor.execute(
            "SELECT count(*), coalesce(sum(o.attempts), 0) FROM credits_outboxrecord o "
            "JOIN ministry_mock_receivedrecord r ON r.id::text = o.ministry_record_id "
            "AND r.idempotency_key = o.idempotency_key::text WHERE o.id = ANY(%s)",
            [outbox_ids],
        )
        run.matched, run.attempts = cursor.fetchone() or (0, 0)


# The measurement.


def deliver(
    config: Config,
    *,
    env: dict[str, str],
    outbox_ids: list[int],
    scratch: Path,
    mock_pid: int,
    broker_pid: int,
    limit: float,
) -> Run:
    """Start a worker, wait for its ping, then enqueue every row and poll until all are delivered (or `limit`)."""
    from django.db import connection

    from ministry_sync.services import BATCH, push_credit_records

    run = Run(config)
    node = f"bench-sync-{os.getpid()}-{config.pool}{config.concurrency}@{socket.gethostname()}"
    log = scratch / f"worker-{config.pool}-{config.concurrency}.log"
    worker = start_worker(config, env=env, log=log, node=node)
    database = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    try:
        wait_worker(node, worker)
        roles = {"broker": broker_pid, "worker": worker.pid}
        cpu_before = harness.cpu_seconds_by_role(server_pgid=mock_pid, database=database, groups=roles)
        busy_before, all_before = harness.machine_cpu_seconds()
        began = time.perf_counter()
        # as link_perform and the periodic re-send do: batches over one kept-open connection each
        for start in range(0, len(outbox_ids), BATCH):
            push_credit_records.delay(outbox_ids=list(outbox_ids[start : start + BATCH]))
        run.enqueue_seconds = time.perf_counter() - began
        while True:
            delivered, failed, received = progress(outbox_ids)
            elapsed = time.perf_counter() - began
            run.timeline.append((elapsed, delivered))
            if (delivered == len(outbox_ids) and received >= delivered) or delivered + failed == len(outbox_ids):
                run.finished = True
                break
            if elapsed > limit:
                break
            if worker.poll() is not None:
                run.worker_exit = worker.returncode
                break
            time.sleep(0.2)
        run.seconds = time.perf_counter() - began
        busy_after, all_after = harness.machine_cpu_seconds()
        cpu_after = harness.cpu_seconds_by_role(server_pgid=mock_pid, database=database, groups=roles)
        run.cpu.update({role: cpu_after[role] - cpu_before[role] for role in cpu_after})
        run.machine_busy, run.machine_all = busy_after - busy_before, all_after - all_before
    finally:
        harness.stop_process(worker, grace=20)
        run.worker_log = log.read_text(errors="replace").strip() if log.exists() else ""
    connection.close()
    check(run, outbox_ids)
    return run


# Where one push's time goes, in wall-clock time (the HTTP wait is the point), as (file suffix, function).
PHASES = [
    ("push_perform", "ministry_sync/services.py", "push_perform"),
    ("  client.call: HTTP to the mock, its answer included", "ministry_sync/client.py", "call"),
    ("  payload(): entry.doctor, profile, specialties, code", "ministry_sync/services.py", "payload"),
    ("  QuerySet.first (the row FOR UPDATE, the link)", "django/db/models/query.py", "first"),
    ("  Model.save (UPDATE of every column)", "django/db/models/base.py", "save"),
    ("  Atomic.__exit__ (COMMIT)", "django/db/transaction.py", "__exit__"),
    ("psycopg Cursor.execute, all queries", "psycopg/cursor.py", "execute"),
    ("SQL compilation, all queries (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
]


def profile_in_process(outbox_ids: list[int], count: int) -> str:
    """`count` pushes in this process (no Celery), to the mock under gunicorn, under a wall-clock cProfile; the
    statements of one push, and those of one record received by the mock (in-process, its URLconf)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from credits.models import OutboxRecord
    from ministry_sync import services

    out = io.StringIO()
    ids = outbox_ids[: count + 2]
    reset(ids)
    with CaptureQueriesContext(connection) as queries:
        first = services.push_perform(ids[0])
    assert first is not None, ids[0]
    assert first.state == OutboxRecord.State.DELIVERED, (first.state, first.last_error)
    print(f"Statements of one push_perform, in-process ({len(queries.captured_queries)}):", file=out)
    for query in queries.captured_queries:
        print(f"  {query['sql'][:160]}", file=out)

    record = OutboxRecord.objects.select_related("entry", "doctor__doctor_profile").get(pk=ids[1])
    body = services.payload(record)
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {settings.MINISTRY_API_TOKEN}", "Idempotency-Key": str(uuid.uuid4())}
    with override_settings(ROOT_URLCONF="ministry_mock.urls"), CaptureQueriesContext(connection) as mock_queries:
        response = client.post("/api/v1/records", data=body, content_type="application/json", headers=headers)
    print(
        f"\nStatements of one record received by the mock, in-process ({len(mock_queries.captured_queries)}, "
        f"answer {response.status_code}; its row deleted again):",
        file=out,
    )
    for query in mock_queries.captured_queries:
        print(f"  {query['sql'][:160]}", file=out)
    from ministry_mock.models import ReceivedRecord

    ReceivedRecord.objects.filter(idempotency_key=headers["Idempotency-Key"]).delete()

    # Half the rows timed as they run, half under the profiler (which inflates Python calls several times).
    timed, profiled = ids[2 : 2 + count // 2], ids[2 + count // 2 :]
    began, cpu_began = time.perf_counter(), time.process_time()
    states = Counter(str(getattr(services.push_perform(outbox_id), "state", None)) for outbox_id in timed)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    print(
        f"\n{len(timed)} pushes in-process, no Celery, {dict(states)}: {seconds / len(timed) * 1000:.2f} ms wall and "
        f"{cpu / len(timed) * 1000:.2f} ms CPU each (the rest of the wall is PostgreSQL and the mock)",
        file=out,
    )
    profile = cProfile.Profile()  # wall clock: where a push waits matters as much as where it computes
    began = time.perf_counter()
    profile.enable()
    states = Counter(str(getattr(services.push_perform(outbox_id), "state", None)) for outbox_id in profiled)
    profile.disable()
    seconds = time.perf_counter() - began
    rest = profiled
    print(
        f"cProfile (wall clock): {len(rest)} more pushes, {dict(states)}: {seconds / len(rest) * 1000:.2f} ms each",
        file=out,
    )
    print(harness.phase_table(pstats.Stats(profile), len(rest), PHASES, unit="push", clock="wall"), file=out)
    print("Top 15 by own time:", file=out)
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def report(run: Run, total: int) -> tuple[bool, bool]:
    """Prints the run; returns (within the time goal, delivered exactly once each)."""
    per = 1000 / max(run.delivered, 1)
    cpu = run.cpu
    other = run.machine_busy - sum(cpu.values())
    name = run.config.label
    projected = ""
    if not run.finished:
        stopped = "the time bound" if run.worker_exit is None else f"the worker exiting with {run.worker_exit}"
        projected = f" (stopped by {stopped}; all {total:,} at this rate: {total / max(run.rate, 1e-9):.0f} s)"
    harness.line(
        f"{name}: delivered",
        f"{run.delivered:,} of {total:,} in {run.seconds:.2f} s = {run.rate:,.0f} records/s{projected}",
    )
    halfway = next((t for t, delivered in run.timeline if delivered >= total // 2), float("nan"))
    harness.line(
        f"{name}: enqueue, half delivered",
        f"{run.enqueue_seconds:.2f} s to enqueue {total:,} tasks; half delivered at {halfway:.1f} s",
    )
    harness.line(
        f"{name}: CPU ms per record",
        f"worker {cpu['worker'] * per:.2f}, mock gunicorn {cpu['server'] * per:.2f}, "
        f"PostgreSQL {cpu['postgres'] * per:.2f}, redis-server {cpu['broker'] * per:.2f}, "
        f"bench process {cpu['clients'] * per:.2f}, other processes {other * per:.2f}; "
        f"machine {run.machine_busy / max(run.machine_all, 1e-9):.0%} busy",
    )
    harness.line(
        f"{name}: mock received / distinct keys / refs",
        f"{run.received:,} / {run.distinct_keys:,} / {run.distinct_refs:,}; failed {run.failed}; "
        f"matched to their outbox row {run.matched:,}; attempts {run.attempts:,}",
    )
    fast = run.finished and run.seconds <= SECONDS_GOAL
    # Once per delivered row, under its key and with its id; all of them when the run finished.
    exact = (
        run.delivered == run.received == run.distinct_keys == run.distinct_refs == run.matched == run.attempts
        and run.failed == 0
        and (run.delivered == total or not run.finished)
    )
    if run.worker_log and (not exact or run.worker_exit is not None):
        print("  worker log (last lines):\n    " + "\n    ".join(run.worker_log.splitlines()[-12:]))
    goal = "goal" if run.config.single else "figure"
    ok_time = harness.verdict(
        f"[{goal}] {name}: {total:,} records delivered in ≤ {SECONDS_GOAL:g} s: {run.seconds:.1f} s", fast
    )
    ok_exact = harness.verdict(
        f"{name}: the mock holds one record per delivered outbox row, sent once, none failed: "
        f"{run.received:,} records for {run.delivered:,} delivered rows",
        exact,
    )
    return ok_time, ok_exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000, help="ledger records to deliver")
    parser.add_argument("--doctors", type=int, default=100, help="linked doctors holding them")
    parser.add_argument(
        "--configs",
        type=parse_configs,
        default=parse_configs("prefork:1,solo:1,threads:8"),
        help="worker pools to measure in turn, pool:concurrency (default prefork:1,solo:1,threads:8)",
    )
    parser.add_argument("--max-seconds", type=float, default=180.0, help="time bound per worker configuration")
    parser.add_argument("--mock-workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--mock-threads", type=int, default=4, help="gunicorn gthread threads per worker")
    parser.add_argument(
        "--conn-max-age",
        default=os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        help="DATABASE_CONN_MAX_AGE of the worker and the mock (default 60; 0 connects per task and request)",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N pushes in-process")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    load_before = os.getloadavg()
    redis_port, mock_port = harness.free_port(), harness.free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    runs: list[Run] = []
    profile_text = ""
    mock_log = ""
    with tempfile.TemporaryDirectory(prefix="nmo-bench-sync-") as scratch_name:
        scratch = Path(scratch_name)
        redis_server = start_redis(redis_port, scratch)
        try:
            overrides = {
                "REDIS_URL": broker,
                "CELERY_BROKER_URL": broker,
                "MINISTRY_API_URL": f"http://127.0.0.1:{mock_port}",
                "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
                "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
            }
            with harness.bench_database(**overrides) as env:
                from django.db import connection

                fixture = build(records=args.records, doctors=args.doctors)
                connection.close()
                mock_env = {**env, "ROOT_URLCONF": "ministry_mock.urls"}
                mock = harness.start_gunicorn(
                    port=mock_port,
                    env=mock_env,
                    workers=args.mock_workers,
                    threads=args.mock_threads,
                    log=scratch / "mock.log",
                    app="nmo_portal.wsgi:application",
                )
                try:
                    harness.wait_ready(mock_port, mock, path="/status/")
                    for n, config in enumerate(args.configs):
                        if n:
                            reset(fixture.outbox_ids, broker=broker)
                        runs.append(
                            deliver(
                                config,
                                env=env,
                                outbox_ids=fixture.outbox_ids,
                                scratch=scratch,
                                mock_pid=mock.pid,
                                broker_pid=redis_server.pid,
                                limit=args.max_seconds,
                            )
                        )
                    if args.profile:
                        profile_text = profile_in_process(fixture.outbox_ids, args.profile)
                finally:
                    harness.stop_gunicorn(mock)
                    mock_log = (scratch / "mock.log").read_text(errors="replace").strip()
        finally:
            harness.stop_process(redis_server)

    total = len(fixture.outbox_ids)
    print(
        f"Ministry sync: {total:,} outbox records, one Celery worker process → the mock under gunicorn "
        f"({args.mock_workers} workers × {args.mock_threads} threads), CONN_MAX_AGE={args.conn_max_age}, "
        f"{env['BENCH_DATABASE_URL'].rsplit('@', 1)[-1]} (throwaway copy), broker {broker} (throwaway redis-server)"
    )
    harness.line("machine", f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before the run")
    harness.line("setup", f"{fixture.seconds:.1f} s: {fixture.doctors} linked doctors, {total:,} ledger + outbox rows")
    passed = [report(run, total) for run in runs]
    single = [run for run in runs if run.config.single and run.finished]
    if single:
        fastest = min(single, key=lambda run: run.seconds)
        harness.line("fastest one-at-a-time worker", f"{fastest.config.label}: {fastest.seconds:.1f} s")
    if mock_log:
        print("mock gunicorn log (last lines):\n" + "\n".join(mock_log.splitlines()[-10:]))
    if profile_text:
        print("\n" + profile_text)
    # The goal: a one-at-a-time worker makes it in time; and every configuration delivers each record once.
    in_time = any(run.config.single and fast for run, (fast, _exact) in zip(runs, passed, strict=True))
    return 0 if in_time and all(exact for _fast, exact in passed) else 1


if __name__ == "__main__":
    sys.exit(main())
