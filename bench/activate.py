"""Code activation under load: POST /api/v1/codes/activate/ through gunicorn, against a raw-SQL endpoint
served by the same gunicorn in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/activate.py

Goals (issue 17): the portal spends at most 2× the gunicorn CPU per activation of django-floor (the raw
endpoint's two statements inside Django and DRF: the framework's floor), measured in the same run; its p99 is
at most 50 ms at 100 activations/s in the open loop; every activation answers 201, and the ledger holds
exactly one row per 201. The first goals (≥ 50% of raw's req/s, p99 ≤ 50 ms with 16 closed-loop clients) are
printed as references: below the floor's own reach, see bench/README.md.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DJANGO_PATH = "/api/v1/codes/activate/"
RAW_PATH = "/__bench/raw-activate/"  # bench.wsgi.RAW_ACTIVATE_PATH; not imported, it would load Django's app
FLOOR_PATH = "/__bench/django-activate/"  # bench.urls.DJANGO_ACTIVATE_PATH
SQL_PATH = "/__bench/sql-activate/"  # bench.urls.SQL_ACTIVATE_PATH
PATHS = {"django": DJANGO_PATH, "raw": RAW_PATH, "django-floor": FLOOR_PATH, "django-sql": SQL_PATH}
PACED = "django-paced"  # the portal's endpoint again, at a fixed arrival rate
FLOOR_PACED = "django-floor-paced"  # django-floor at the same rate right after: the tail the machine itself adds
PACED_PATHS = {PACED: DJANGO_PATH, FLOOR_PACED: FLOOR_PATH}
RATIO_REFERENCE = 0.5  # issue 4's goal, now a reference: the floor itself reaches about 52% of raw
P99_GOAL_MS = 50.0
PACED_RATE = 100.0
FLOOR_CPU_GOAL = 2.0  # the portal's gunicorn CPU per activation, at most this many times django-floor's


@dataclass(frozen=True)
class Activation:
    cookie: str
    csrf: str
    code: str


def post_activation(conn: http.client.HTTPConnection, path: str, item: Activation) -> tuple[int, bytes]:
    body = json.dumps({"code": item.code})
    headers = {"Content-Type": "application/json", "Cookie": item.cookie, "X-CSRFToken": item.csrf, "Host": "127.0.0.1"}
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def hammer(
    *, name: str, port: int, path: str, work: list[Activation], clients: int, max_seconds: float
) -> harness.RunResult:
    """Closed loop: `clients` threads, each on one keep-alive connection, post their share of `work` back to
    back. Latency here is mostly queueing: about clients ÷ throughput."""
    result = harness.RunResult(name, expected=201)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(share: list[Activation]) -> None:
        run = harness.RunResult(name, expected=201)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        start.wait()
        for item in share:
            if time.perf_counter() > deadline[0]:
                break
            conn = send(run, conn, path, item, since=time.perf_counter())
        conn.close()
        with lock:
            result.add(run)

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


def send(
    run: harness.RunResult, conn: http.client.HTTPConnection, path: str, item: Activation, *, since: float
) -> http.client.HTTPConnection:
    """Post one activation and count its answer in `run`, its latency counted from `since`. Returns the
    connection to go on with: a new one after a transport failure, which is counted and not retried (a POST
    that may have been served must not be sent twice)."""
    try:
        status, payload = post_activation(conn, path, item)
    except Exception as exc:  # noqa: BLE001 - a transport failure is counted, never hidden
        run.failures[type(exc).__name__] += 1
        conn.close()
        return http.client.HTTPConnection(conn.host, conn.port, timeout=conn.timeout)
    run.latencies.append(time.perf_counter() - since)
    run.statuses[status] += 1
    if status != 201 and len(run.samples) < 3:
        run.samples.append(f"{status} {payload[:300]!r}")
    return conn


def pace(*, name: str, port: int, path: str, work: list[Activation], rate: float, clients: int) -> harness.RunResult:
    """Open loop: activation i is due at start + i ÷ rate whatever happened to the ones before, as doctors
    arrive on their own; `clients` threads take them in order. Latency counts from when a request was due,
    so a server that falls behind shows it (no coordinated omission)."""
    result = harness.RunResult(name, expected=201)
    lock = threading.Lock()
    queue = iter(enumerate(work))
    began = time.perf_counter() + 0.2

    def client() -> None:
        run = harness.RunResult(name, expected=201)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                index, item = next(queue, (-1, None))
            if item is None:
                break
            due = began + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            conn = send(run, conn, path, item, since=due)
        conn.close()
        with lock:
            result.add(run)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(len(work) / rate + 60)
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


def cpu_in_process(works: dict[str, list[Activation]]) -> str:
    """CPU per activation of each endpoint called in this process as gunicorn calls it (the WSGI application,
    one thread): no HTTP, no queueing, no other process on the core. Steadier than the HTTP figures, so it
    shows small changes; the first 20 activations of each endpoint warm up."""
    from django.test.utils import override_settings

    from bench.wsgi import application

    def call(path: str, item: Activation) -> str:
        body = json.dumps({"code": item.code}).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            "HTTP_COOKIE": item.cookie,
            "HTTP_X_CSRFTOKEN": item.csrf,
        }
        status: list[str] = []
        b"".join(application(environ, lambda line, headers: status.append(line)))
        return status[0]

    out = io.StringIO()
    print("CPU per activation in-process (the WSGI application, one thread, no HTTP):", file=out)
    with override_settings(ROOT_URLCONF="bench.urls"):  # as gunicorn runs it (bench.settings): django-floor
        for name, path in PATHS.items():
            work = works[f"{name}-cpu"]
            statuses = Counter(call(path, item) for item in work[:20])
            began = time.process_time()
            statuses.update(call(path, item) for item in work[20:])
            per = (time.process_time() - began) / max(len(work) - 20, 1) * 1000
            print(f"  {name + ':':<14} {per:.2f} ms CPU each over {len(work) - 20}; {dict(statuses)}", file=out)
    return out.getvalue()


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
    ("  ActivateView.post", "codes/api.py", "post"),
    ("    _typed_code (the body's code)", "codes/api.py", "_typed_code"),
    ("    code_activate", "codes/services.py", "code_activate"),
    ("      ratelimit.attempt_start (Redis)", "codes/ratelimit.py", "attempt_start"),
    ("      Attempt.finish (Redis)", "codes/ratelimit.py", "finish"),
    ("      the one statement, and the entry it returns", "codes/services.py", "_code_activate_in_one_statement"),
    ("        activation_sql.claim (the statement)", "codes/activation_sql.py", "claim"),
    ("        records_changed (the plan's cache version)", "accounts/signals.py", "records_changed"),
    ("      the ORM path (refusals; SQLite)", "codes/services.py", "_code_activate"),
    ("        doctor_identity (e-mail and СНИЛС, one query)", "accounts/selectors.py", "doctor_identity"),
    ("        ledger_append (INSERT ledger + outbox)", "credits/services.py", "ledger_append"),
    ("        audit_log (INSERT)", "accounts/audit.py", "audit_log"),
    ("      Atomic.__exit__ (COMMIT + on_commit tasks)", "django/db/transaction.py", "__exit__"),
    ("      Celery Task.delay (a publish to Redis; none expected)", "celery/app/task.py", "delay"),
    ("    credit_record (the answer, a plain dict)", "credits/api.py", "credit_record"),
    ("    CreditRecordSerializer.data (none expected)", "rest_framework/serializers.py", "data"),
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


def build(*, warmup: int, activations: int, paced: int, profile: int, in_process: int) -> Fixture:
    """An ended approved event per endpoint, with as many fresh codes and signed-in doctors as activations."""
    from bench import data

    began = time.perf_counter()
    tag = data.run_tag()
    organization, _member = data.provider(tag)
    sizes = dict.fromkeys(PATHS, warmup + activations)
    sizes[PACED] = sizes[FLOOR_PACED] = paced
    if profile:
        sizes["profile"] = profile + 2
    if in_process:
        sizes.update({f"{name}-cpu": in_process + 20 for name in PATHS})
    events, works = {}, {}
    for name, size in sizes.items():
        events[name] = data.approved_event(organization, title=f"Bench activation {tag} {name}", ended=True)
        doctors = data.signed_in_doctors(size, f"{tag}-{name}")
        works[name] = prepare(doctors, data.codes(events[name], size))
    return Fixture(events, works, sum(sizes.values()), time.perf_counter() - began)


def serve_and_measure(args: argparse.Namespace, env: dict[str, str], works: dict[str, list[Activation]]):
    """Start gunicorn, warm both endpoints up, then measure them in rounds of alternating order."""
    database = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    results = {name: harness.RunResult(name, expected=201) for name in PATHS}
    port = harness.free_port()
    gunicorn_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    with tempfile.TemporaryDirectory(prefix="nmo-bench-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        process = harness.start_gunicorn(
            port=port,
            env=gunicorn_env,
            workers=args.workers,
            threads=args.threads,
            log=log,
            worker_class=args.worker_class,
        )
        try:
            harness.wait_ready(port, process)
            for name, path in PATHS.items():
                warm = works[name][: args.warmup]
                results[f"{name}-warmup"] = hammer(
                    name=name, port=port, path=path, work=warm, clients=args.clients, max_seconds=60
                )
            # Rounds turn the order, so that no endpoint always runs on a warmer or quieter machine.
            share = args.activations // args.rounds
            names = list(PATHS)
            for round_ in range(args.rounds):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    first = args.warmup + round_ * share
                    work = works[name][first : first + share if round_ < args.rounds - 1 else None]
                    cpu_before = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                    busy_before, all_before = harness.machine_cpu_seconds()
                    run = hammer(
                        name=name,
                        port=port,
                        path=PATHS[name],
                        work=work,
                        clients=args.clients,
                        max_seconds=args.max_seconds / args.rounds,
                    )
                    busy_after, all_after = harness.machine_cpu_seconds()
                    cpu_after = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                    run.cpu.update({role: cpu_after[role] - cpu_before[role] for role in cpu_after})
                    run.machine_busy, run.machine_all = busy_after - busy_before, all_after - all_before
                    results[name].add(run)
            for name, path in PACED_PATHS.items():
                cpu_before = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                busy_before, all_before = harness.machine_cpu_seconds()
                paced = pace(
                    name=name, port=port, path=path, work=works[name], rate=args.rate, clients=args.paced_clients
                )
                busy_after, all_after = harness.machine_cpu_seconds()
                cpu_after = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                paced.cpu.update({role: cpu_after[role] - cpu_before[role] for role in cpu_after})
                paced.machine_busy, paced.machine_all = busy_after - busy_before, all_after - all_before
                results[name] = paced
        finally:
            harness.stop_gunicorn(process)
            server_log = log.read_text(errors="replace").strip()
    return results, server_log


def cpu_ms(run: harness.RunResult) -> float:
    """gunicorn's CPU milliseconds per activation of a closed-loop run (all its rounds)."""
    return run.cpu["server"] * 1000 / max(run.done, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activations", type=int, default=4000, help="measured activations per endpoint, at most")
    parser.add_argument("--clients", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time bound per endpoint, all rounds")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per endpoint, alternating the order")
    parser.add_argument("--warmup", type=int, default=160, help="unmeasured activations per endpoint first")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (more than 1: gthread)")
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn worker class (sync: as docker-compose.yml runs the portal)"
    )
    parser.add_argument("--rate", type=float, default=PACED_RATE, help="activations per second of the paced run")
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="length of the paced run")
    parser.add_argument("--paced-clients", type=int, default=32, help="client threads of the paced run")
    parser.add_argument(
        "--conn-max-age",
        default=os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        help="DATABASE_CONN_MAX_AGE for gunicorn (default 60: persistent connections; 0 connects per request)",
    )
    parser.add_argument(
        "--in-process", type=int, default=0, metavar="N", help="then time N activations per endpoint in-process"
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N activations in-process")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", "No directory at", UserWarning)  # STATIC_ROOT: collectstatic is not run
    load_before = os.getloadavg()
    redis_url = os.environ.get("REDIS_URL") or harness.BENCH_REDIS_URL
    overrides = {
        "REDIS_URL": redis_url,
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
    }
    profile_text = ""
    with harness.bench_database(**overrides) as env:
        from django.db import connection

        from codes.models import IcpCode
        from credits.models import CreditEntry

        harness.flush_bench_redis(redis_url)
        fixture = build(
            warmup=args.warmup,
            activations=args.activations,
            paced=round(args.rate * args.paced_seconds),
            profile=args.profile,
            in_process=args.in_process,
        )
        connection.close()
        try:
            results, server_log = serve_and_measure(args, env, fixture.works)
        finally:
            harness.flush_bench_redis(redis_url)
        ledger, activated = {}, {}
        for name in [*PATHS, *PACED_PATHS]:
            event_id = fixture.events[name].pk
            ledger[name] = CreditEntry.objects.filter(activity_kind="event", activity_id=event_id).count()
            activated[name] = IcpCode.objects.filter(
                event=fixture.events[name], status=IcpCode.Status.ACTIVATED
            ).count()
        if args.in_process:
            profile_text += cpu_in_process(fixture.works)
        if args.profile:
            profile_text += profile_in_process(fixture.works["profile"])
        harness.flush_bench_redis(redis_url)

    django, raw, floor, sql = results["django"], results["raw"], results["django-floor"], results["django-sql"]
    checked = [*PATHS, *PACED_PATHS]
    warmups = {name: results.get(f"{name}-warmup", harness.RunResult(name, expected=201)) for name in checked}
    successes = {name: results[name].succeeded + warmups[name].succeeded for name in checked}
    ratio = django.rate / raw.rate if raw.rate else 0.0
    print(
        f"ИКП activation over HTTP: gunicorn bench.wsgi, {args.workers} {args.worker_class} workers"
        f"{f' × {args.threads} threads' if args.threads > 1 else ''}, {args.clients} closed-loop clients, "
        f"CONN_MAX_AGE={args.conn_max_age}, "
        f"{env['BENCH_DATABASE_URL'].rsplit('@', 1)[-1]} (throwaway copy), {redis_url}"
    )
    harness.line("machine", f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before the run")
    harness.line("setup (doctors, sessions, codes)", f"{fixture.seconds:.1f} s, {fixture.doctors:,} doctors")
    for run in (django, raw, floor, sql):
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
    for name in PACED_PATHS:
        paced = results[name]
        harness.line(
            f"{name}: {paced.done:,} activations at {args.rate:g}/s",
            f"{paced.rate:,.0f} req/s; p50 {paced.percentile_ms(0.50):.1f} ms, "
            f"p95 {paced.percentile_ms(0.95):.1f} ms, p99 {paced.percentile_ms(0.99):.1f} ms, "
            f"max {paced.percentile_ms(1.0):.1f} ms (from when each was due)",
        )
        harness.line(f"{name}: statuses, transport errors", f"{dict(paced.statuses)}, {dict(paced.failures)}")
        per = 1000 / max(paced.done, 1)
        harness.line(
            f"{name}: CPU ms per activation",
            # PostgreSQL and the rest together: a backend that exits within the run takes its CPU out of the
            # PostgreSQL role's sum, which can then go negative; the two together are what the machine did
            f"gunicorn {paced.cpu['server'] * per:.2f}, clients {paced.cpu['clients'] * per:.2f}, PostgreSQL and "
            f"other processes {(paced.machine_busy - paced.cpu['server'] - paced.cpu['clients']) * per:.2f}; "
            f"machine {paced.machine_busy / max(paced.machine_all, 1e-9):.0%} busy",
        )
        for sample in paced.samples:
            harness.line(f"{name}: sample refusal", sample)
    paced = results[PACED]
    harness.line("ratio django / raw req/s", f"{ratio:.0%}")
    harness.line(
        "reference: django-floor / raw req/s",
        f"{floor.rate / raw.rate if raw.rate else 0.0:.0%} (the raw statements inside Django and DRF; not a goal)",
    )
    harness.line(
        "reference: django-sql / raw req/s",
        f"{sql.rate / raw.rate if raw.rate else 0.0:.0%} (the activation in hand-written SQL inside DRF; a bound)",
    )
    for name in checked:
        harness.line(
            f"{name}: ledger rows / activated codes / 201s",
            f"{ledger[name]:,} / {activated[name]:,} / {successes[name]:,} (warm-up included)",
        )
    if server_log:
        print("gunicorn log (last lines):\n" + "\n".join(server_log.splitlines()[-15:]))
    errors = {name: results[name].errors + warmups[name].errors for name in checked}
    p99, paced_p99 = django.percentile_ms(0.99), paced.percentile_ms(0.99)
    floor_ratio = floor.rate / raw.rate if raw.rate else 0.0
    django_cpu, floor_cpu = cpu_ms(django), cpu_ms(floor)
    cpu_ratio = django_cpu / floor_cpu if floor_cpu else float("inf")
    harness.line(
        f"reference (issue 4): django ≥ {RATIO_REFERENCE:.0%} of raw req/s",
        f"{ratio:.0%} (django-floor: {floor_ratio:.0%}; not a goal: below the floor's own reach)",
    )
    harness.line(
        f"reference (issue 4): django p99, {args.clients} closed-loop clients",
        f"{p99:.1f} ms (django-floor: {floor.percentile_ms(0.99):.1f} ms; not a goal: ≈ clients ÷ throughput)",
    )
    passed = [
        harness.verdict(
            f"django CPU per activation ≤ {FLOOR_CPU_GOAL:g}× django-floor's (gunicorn CPU ms, same run): "
            f"{django_cpu:.2f} / {floor_cpu:.2f} ms = {cpu_ratio:.2f}×",
            cpu_ratio <= FLOOR_CPU_GOAL,
        ),
        harness.verdict(
            f"django p99 ≤ {P99_GOAL_MS:g} ms at {args.rate:g} activations/s, open loop: {paced_p99:.1f} ms "
            f"(django-floor: {results[FLOOR_PACED].percentile_ms(0.99):.1f} ms)",
            paced_p99 <= P99_GOAL_MS and paced.done == len(fixture.works[PACED]),
        ),
        harness.verdict(
            "every activation answered 201: " + ", ".join(f"{errors[name]} {name} errors" for name in checked),
            all(errors[name] == 0 and results[name].done > 0 for name in checked),
        ),
        harness.verdict(
            "ledger rows = activated codes = 201 answers, per endpoint",
            all(ledger[name] == activated[name] == successes[name] for name in checked),
        ),
    ]
    if profile_text:
        print("\n" + profile_text)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
