"""Code activation under load: POST /api/v1/codes/activate/ through gunicorn, against a raw-SQL endpoint
served by the same gunicorn in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/activate.py

Goals: the portal serves at least 50% of the raw endpoint's requests per second, its p99 latency is at most
50 ms, every activation answers 201, and the ledger holds exactly one row per 201.

gunicorn runs `bench.wsgi` (the portal plus /__bench/raw-activate/) with production-like settings (DEBUG off,
Redis for the cache, the rate-limit counters and the Celery broker). Each doctor is signed in by writing the
session `login()` would write, and each run activates fresh codes as fresh doctors, so both endpoints do real
activations. Cookies are sent by hand: with DEBUG off they are marked Secure and the bench speaks plain HTTP.
"""

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DJANGO_PATH = "/api/v1/codes/activate/"
RAW_PATH = "/__bench/raw-activate/"  # bench.wsgi.RAW_ACTIVATE_PATH; not imported, it would load Django's app
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"
RATIO_GOAL = 0.5
P99_GOAL_MS = 50.0


@dataclass(frozen=True)
class Activation:
    cookie: str
    csrf: str
    code: str


@dataclass
class RunResult:
    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    # CPU seconds spent during the run by role (harness.cpu_seconds_by_role), and by the whole machine
    cpu: Counter[str] = field(default_factory=Counter)
    machine_busy: float = 0.0
    machine_all: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def errors(self) -> int:
        return self.done - self.created + sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def add(self, other: "RunResult") -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.failures.update(other.failures)
        self.samples += other.samples[: max(0, 3 - len(self.samples))]
        self.cpu.update(other.cpu)
        self.machine_busy += other.machine_busy
        self.machine_all += other.machine_all

    def percentile_ms(self, share: float) -> float:
        return harness.percentile_ms(self.latencies, share)


def hammer(*, name: str, port: int, path: str, work: list[Activation], clients: int, max_seconds: float) -> RunResult:
    """`clients` threads, each on one keep-alive connection, post their share of `work` back to back."""
    result = RunResult(name)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(share: list[Activation]) -> None:
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        failures: Counter[str] = Counter()
        samples: list[str] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start.wait()
        for item in share:
            if time.perf_counter() > deadline[0]:
                break
            body = json.dumps({"code": item.code})
            headers = {
                "Content-Type": "application/json",
                "Cookie": item.cookie,
                "X-CSRFToken": item.csrf,
                "Host": "127.0.0.1",
            }
            began = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except Exception as exc:  # noqa: BLE001 - a transport failure is counted, never hidden
                # not retried: a POST that may have been served must not be sent twice
                failures[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            latencies.append(time.perf_counter() - began)
            statuses[response.status] += 1
            if response.status != 201 and len(samples) < 3:
                samples.append(f"{response.status} {payload[:300]!r}")
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)
            result.failures.update(failures)
            result.samples.extend(samples)

    threads = [threading.Thread(target=client, args=(work[n::clients],), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + max_seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join(max_seconds + 30)
    result.seconds = time.perf_counter() - began
    return result


def prepare(doctors, codes: list[str]) -> list[Activation]:
    """What each activation sends: the doctor's session cookie with a fresh CSRF token, and one code."""
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string

    work = []
    for doctor, code in zip(doctors, codes, strict=True):
        token = _get_new_csrf_string()
        cookie = f"{settings.SESSION_COOKIE_NAME}={doctor.session_key}; {settings.CSRF_COOKIE_NAME}={token}"
        work.append(Activation(cookie=cookie, csrf=token, code=code))
    return work


def profile_in_process(work: list[Activation]) -> str:
    """The portal's activation in this process through Django's test client, under cProfile (CPU time), with
    the queries of one request: where a request's CPU goes, without gunicorn and the network."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")

    def post(item: Activation) -> int:
        response = client.post(
            DJANGO_PATH,
            data=json.dumps({"code": item.code}),
            content_type="application/json",
            HTTP_COOKIE=item.cookie,
            HTTP_X_CSRFTOKEN=item.csrf,
        )
        return response.status_code

    out = io.StringIO()
    assert post(work[0]) == 201
    with CaptureQueriesContext(connection) as queries:
        assert post(work[1]) == 201
    print(f"Statements of one activation, in-process ({len(queries.captured_queries)}):", file=out)
    for query in queries.captured_queries:
        print(f"  {query['sql'][:160]}", file=out)
    profile = cProfile.Profile(time.process_time)
    began, cpu_began = time.perf_counter(), time.process_time()
    profile.enable()
    statuses = Counter(post(item) for item in work[2:])
    profile.disable()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    count = len(work) - 2
    print(
        f"\ncProfile: {count} activations in-process, {dict(statuses)}: {seconds / count * 1000:.2f} ms wall and "
        f"{cpu / count * 1000:.2f} ms CPU each under the profiler (which inflates Python calls several times).",
        file=out,
    )
    print(phase_table(pstats.Stats(profile), count), file=out)
    print("Top 15 by own CPU time:", file=out)
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# Where an activation's CPU goes, as (file suffix, function) of the profile; nested phases are indented.
PHASES = [
    ("the request, middleware included", "django/core/handlers/base.py", "get_response"),
    ("  session load (SessionMiddleware)", "sessions/backends/db.py", "load"),
    ("  user load (AuthenticationMiddleware)", "django/contrib/auth/__init__.py", "get_user"),
    ("  DRF initial: authentication, CSRF, permissions", "rest_framework/views.py", "initial"),
    ("  ActivateView.post", "credits/api.py", "post"),
    ("    code_activate", "credits/services.py", "code_activate"),
    ("      profile_problems (2 EXISTS)", "credits/services.py", "profile_problems"),
    ("      ratelimit.blocked_until (Redis)", "credits/ratelimit.py", "blocked_until"),
    ("      QuerySet.first (code lookup + _refusal's)", "django/db/models/query.py", "first"),
    ("      _refusal", "credits/services.py", "_refusal"),
    ("      ledger_append (INSERT ledger + outbox)", "credits/services.py", "ledger_append"),
    ("        outbox_add", "ministry_sync/services.py", "outbox_add"),
    ("      audit_log (INSERT)", "accounts/audit.py", "audit_log"),
    ("      Atomic.__exit__ (COMMIT + on_commit tasks)", "django/db/transaction.py", "__exit__"),
    ("        Celery Task.delay (publish to Redis)", "celery/app/task.py", "delay"),
    ("    CreditRecordSerializer.data", "rest_framework/serializers.py", "data"),
    ("  Response.rendered_content (JSON)", "rest_framework/response.py", "rendered_content"),
    ("SQL compilation, all queries (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("psycopg Cursor.execute, all queries", "psycopg/cursor.py", "execute"),
]


def phase_table(stats: pstats.Stats, count: int) -> str:
    """Cumulative CPU of the PHASES per activation, and as a share of the whole request."""
    return harness.phase_table(stats, count, PHASES, unit="activation")


@dataclass
class Fixture:
    events: dict[str, Any]
    works: dict[str, list[Activation]]
    doctors: int
    seconds: float


def build(*, warmup: int, activations: int, profile: int) -> Fixture:
    """An ended approved event per endpoint, with as many fresh codes and signed-in doctors as activations."""
    from bench import data

    began = time.perf_counter()
    tag = data.run_tag()
    organization, _member = data.provider(tag)
    sizes = {"django": warmup + activations, "raw": warmup + activations}
    if profile:
        sizes["profile"] = profile + 2
    events, works = {}, {}
    for name, size in sizes.items():
        events[name] = data.approved_event(organization, title=f"Bench activation {tag} {name}", ended=True)
        doctors = data.signed_in_doctors(size, f"{tag}-{name}")
        works[name] = prepare(doctors, data.codes(events[name], size))
    return Fixture(events, works, sum(sizes.values()), time.perf_counter() - began)


def serve_and_measure(args: argparse.Namespace, env: dict[str, str], works: dict[str, list[Activation]]):
    """Start gunicorn, warm both endpoints up, then measure them in rounds of alternating order."""
    database = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    results = {name: RunResult(name) for name in ("django", "raw", "django-warmup", "raw-warmup")}
    paths = {"django": DJANGO_PATH, "raw": RAW_PATH}
    port = harness.free_port()
    gunicorn_env = {name: value for name, value in env.items() if name != "DJANGO_SETTINGS_MODULE"}
    with tempfile.TemporaryDirectory(prefix="nmo-bench-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        process = harness.start_gunicorn(
            port=port, env=gunicorn_env, workers=args.workers, threads=args.threads, log=log
        )
        try:
            harness.wait_ready(port, process)
            for name in ("django", "raw"):
                warm = works[name][: args.warmup]
                results[f"{name}-warmup"] = hammer(
                    name=name, port=port, path=paths[name], work=warm, clients=args.clients, max_seconds=60
                )
            # Rounds alternate the order, so that neither endpoint always runs on a warmer or quieter machine.
            share = args.activations // args.rounds
            for round_ in range(args.rounds):
                for name in ("django", "raw") if round_ % 2 == 0 else ("raw", "django"):
                    first = args.warmup + round_ * share
                    work = works[name][first : first + share if round_ < args.rounds - 1 else None]
                    cpu_before = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                    busy_before, all_before = harness.machine_cpu_seconds()
                    run = hammer(
                        name=name,
                        port=port,
                        path=paths[name],
                        work=work,
                        clients=args.clients,
                        max_seconds=args.max_seconds / args.rounds,
                    )
                    busy_after, all_after = harness.machine_cpu_seconds()
                    cpu_after = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                    run.cpu.update({role: cpu_after[role] - cpu_before[role] for role in cpu_after})
                    run.machine_busy, run.machine_all = busy_after - busy_before, all_after - all_before
                    results[name].add(run)
        finally:
            harness.stop_gunicorn(process)
            server_log = log.read_text(errors="replace").strip()
    return results, server_log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activations", type=int, default=4000, help="measured activations per endpoint, at most")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time bound per endpoint, all rounds")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per endpoint, alternating the order")
    parser.add_argument("--warmup", type=int, default=160, help="unmeasured activations per endpoint first")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads per worker")
    parser.add_argument(
        "--conn-max-age",
        default=os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        help="DATABASE_CONN_MAX_AGE for gunicorn (default 60: persistent connections; 0 connects per request)",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N activations in-process")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # STATIC_ROOT: collectstatic is not run
    load_before = os.getloadavg()
    redis_url = os.environ.get("REDIS_URL") or BENCH_REDIS_URL
    overrides = {
        "REDIS_URL": redis_url,
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    profile_text = ""
    with harness.bench_database(**overrides) as env:
        import redis
        from django.db import connection

        from credits.models import CreditEntry, IcpCode

        fixture = build(warmup=args.warmup, activations=args.activations, profile=args.profile)
        connection.close()
        try:
            results, server_log = serve_and_measure(args, env, fixture.works)
        finally:
            if redis_url == BENCH_REDIS_URL:
                # the e-mails and Ministry pushes the portal queued for a Celery worker the bench does not run
                redis.Redis.from_url(redis_url).delete("celery")
        ledger, activated = {}, {}
        for name in ("django", "raw"):
            ledger[name] = CreditEntry.objects.filter(event=fixture.events[name]).count()
            activated[name] = IcpCode.objects.filter(
                event=fixture.events[name], status=IcpCode.Status.ACTIVATED
            ).count()
        if args.profile:
            profile_text = profile_in_process(fixture.works["profile"])
            if redis_url == BENCH_REDIS_URL:
                redis.Redis.from_url(redis_url).delete("celery")

    django, raw = results["django"], results["raw"]
    successes = {name: results[name].created + results[f"{name}-warmup"].created for name in ("django", "raw")}
    ratio = django.rate / raw.rate if raw.rate else 0.0
    print(
        f"ИКП activation over HTTP: gunicorn bench.wsgi, {args.workers} workers × {args.threads} threads (gthread), "
        f"{args.clients} keep-alive clients, CONN_MAX_AGE={args.conn_max_age}, "
        f"{env['BENCH_DATABASE_URL'].rsplit('@', 1)[-1]} (throwaway copy), {redis_url}"
    )
    harness.line("machine", f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before the run")
    harness.line("setup (doctors, sessions, codes)", f"{fixture.seconds:.1f} s, {fixture.doctors:,} doctors")
    for run in (django, raw):
        harness.line(
            f"{run.name}: {run.done:,} activations in {run.seconds:.2f} s",
            f"{run.rate:,.0f} req/s; p50 {run.percentile_ms(0.50):.1f} ms, p95 {run.percentile_ms(0.95):.1f} ms, "
            f"p99 {run.percentile_ms(0.99):.1f} ms, max {run.percentile_ms(1.0):.1f} ms",
        )
        if run.done < args.activations:
            harness.line(f"{run.name}: stopped by the time bound", f"{run.done:,} of {args.activations:,} done")
        harness.line(f"{run.name}: statuses, transport errors", f"{dict(run.statuses)}, {dict(run.failures)}")
        for sample in run.samples:
            harness.line(f"{run.name}: sample refusal", sample)
        per = 1000 / max(run.done, 1)
        other = run.machine_busy - sum(run.cpu.values())
        harness.line(
            f"{run.name}: CPU ms per activation",
            f"gunicorn {run.cpu['server'] * per:.2f}, PostgreSQL {run.cpu['postgres'] * per:.2f}, "
            f"Redis {run.cpu['redis'] * per:.2f}, clients {run.cpu['clients'] * per:.2f}, "
            f"other processes {other * per:.2f}; machine {run.machine_busy / max(run.machine_all, 1e-9):.0%} busy",
        )
    harness.line("ratio django / raw req/s", f"{ratio:.0%}")
    for name in ("django", "raw"):
        harness.line(
            f"{name}: ledger rows / activated codes / 201s",
            f"{ledger[name]:,} / {activated[name]:,} / {successes[name]:,} (warm-up included)",
        )
    if server_log:
        print("gunicorn log (last lines):\n" + "\n".join(server_log.splitlines()[-15:]))
    errors = {name: results[name].errors + results[f"{name}-warmup"].errors for name in ("django", "raw")}
    p99 = django.percentile_ms(0.99)
    passed = [
        harness.verdict(f"django ≥ {RATIO_GOAL:.0%} of raw req/s: {ratio:.0%}", ratio >= RATIO_GOAL),
        harness.verdict(f"django p99 ≤ {P99_GOAL_MS:g} ms: {p99:.1f} ms", p99 <= P99_GOAL_MS),
        harness.verdict(
            f"every activation answered 201: {errors['django']} django errors, {errors['raw']} raw errors",
            errors["django"] == errors["raw"] == 0 and django.done > 0 and raw.done > 0,
        ),
        harness.verdict(
            "ledger rows = activated codes = 201 answers, per endpoint",
            all(ledger[name] == activated[name] == successes[name] for name in ("django", "raw")),
        ),
    ]
    if profile_text:
        print("\n" + profile_text)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
