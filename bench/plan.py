"""The cabinet's «План обучения» under load: GET /me/plan/ of a doctor with 500 ledger records through
gunicorn, against a bare view doing one SELECT of the same rows, served by the same gunicorn in the same run.
A third endpoint, /__bench/django-plan/ (`bench.urls`), does the bare view's work inside Django (middleware,
session, user, `login_required`): it splits the gap into the framework's part and the page's own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/plan.py

Goals: the plan page serves at least 50% of the bare view's requests per second, and renders in at most 15
SQL queries (counted once in-process with CaptureQueriesContext).

The doctor has a psychiatry cycle that started four years ago; 250 approved events and 250 approved modules
of psychiatry (and a second specialty; a tenth of the modules of another specialty only) are credited once
each: 500 CreditEntry rows written in bulk with what the plan reads of them — an activated ИКП code per
event row and an outbox row per ledger row (most delivered, the account linked). Some were earned before the
cycle, so both the cycle's table and the "not counted" table fill. gunicorn runs `bench.wsgi` with
production-like settings (DEBUG off, hashed static files collected into a temporary directory, Redis cache).
"""

import argparse
import cProfile
import http.client
import io
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DJANGO_PATH = "/me/plan/"  # reverse("learning_plan:plan"), checked in-process
BARE_PATH = "/__bench/bare-plan/"  # bench.wsgi.BARE_PLAN_PATH; not imported, it would load Django's app
FLOOR_PATH = "/__bench/django-plan/"  # bench.urls.DJANGO_PLAN_PATH: the bare view's work inside Django
RATIO_GOAL = 0.5
QUERY_GOAL = 15
PSYCHIATRY = "31.08.20"


def hammer(*, name: str, port: int, path: str, cookie: str, clients: int, seconds: float) -> harness.RunResult:
    """`clients` threads, each on one keep-alive connection, GET `path` back to back for `seconds`."""
    result = harness.RunResult(name)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]
    headers = {"Cookie": cookie, "Host": "127.0.0.1", "Accept": "text/html"}

    def client() -> None:
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        failures: Counter[str] = Counter()
        sizes: Counter[int] = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
            except Exception as exc:  # noqa: BLE001 - a transport failure is counted, never hidden
                failures[type(exc).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies.append(time.perf_counter() - began)
            statuses[response.status] += 1
            sizes[len(body)] += 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)
            result.failures.update(failures)
            result.sizes.update(sizes)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 60)
    result.seconds = time.perf_counter() - began
    return result


@dataclass
class Fixture:
    user_id: int
    cookie: str
    entries: int
    records_counted: int
    records_not_counted: int
    seconds: float


def build(*, events: int, modules: int) -> Fixture:
    """The doctor, the cycle, the activities and the ledger (see the module's docstring)."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.middleware.csrf import _get_new_csrf_string
    from django.utils import timezone

    from accounts.models import Specialty, User
    from bench import data
    from credits.models import CreditEntry
    from learning_plan.models import PlannedActivity, ProgrammeEntry
    from learning_plan.selectors import learning_plan
    from learning_plan.services import cycle_add
    from ministry_sync.models import MinistryLink

    began = time.perf_counter()
    tag = data.run_tag()
    organization, _member = data.provider(tag)
    psychiatry = Specialty.objects.get(code=PSYCHIATRY)
    second, other = Specialty.objects.exclude(pk=psychiatry.pk).order_by("code")[:2]
    doctor = data.signed_in_doctors(1, tag)[0]
    user = User.objects.get(pk=doctor.user_id)
    user.doctor_profile.specialties.add(psychiatry)
    today = timezone.localdate()
    with transaction.atomic():
        cycle_add(doctor=user, specialty=psychiatry, starts_on=today.replace(year=today.year - 4))
    MinistryLink.objects.create(
        doctor=user, login=f"bench-{tag}", state=MinistryLink.State.LINKED, specialist_id="1", linked_at=timezone.now()
    )

    # Earned over the last ~4.5 years: about a tenth before the cycle started.
    spread = [10 + round(i * 1640 / max(events, 1)) for i in range(events)]
    activities = data.approved_events(
        organization, n=events, tag=tag, specialties=[psychiatry, second], ended_days_ago=spread
    )
    own = modules - modules // 10
    courses = data.approved_modules(organization, n=own, tag=tag, specialties=[psychiatry, second])
    courses += data.approved_modules(organization, n=modules - own, tag=f"{tag}-x", specialties=[other])
    codes = data.activated_codes([(event, user.pk) for event in activities])
    ledger = [
        CreditEntry(
            doctor=user,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.CODE,
            source_id=code.pk,
            activity_kind="event",
            activity_id=event.pk,
            credits=event.credits_granted or 0,
            earned_on=event.end_date,
            actor=user,
        )
        for event, code in zip(activities, codes, strict=True)
    ] + [
        CreditEntry(
            doctor=user,
            kind=CreditEntry.Kind.CREDIT,
            source=CreditEntry.Source.MODULE_COMPLETION,
            activity_kind="module",
            activity_id=module.pk,
            credits=module.credits_granted or 0,
            earned_on=today - timedelta(days=5 + round(i * 1640 / max(modules, 1))),
            actor=user,
        )
        for i, module in enumerate(courses)
    ]
    data.ledger_with_outbox(ledger, delivered_share=0.95)
    PlannedActivity.objects.bulk_create(
        [PlannedActivity(doctor=user, event=event) for event in activities[:3]]
        + [PlannedActivity(doctor=user, module=module) for module in courses[:2]]
    )
    ProgrammeEntry.objects.create(
        doctor=user,
        specialty=psychiatry,
        name="Психиатрия: избранные вопросы",
        organization="Бенч-университет",
        hours=36,
        starts_on=today - timedelta(days=400),
        ends_on=today - timedelta(days=390),
        document_number=f"ПК-{tag}",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the planner's statistics, as autovacuum would have them in production
    plan = learning_plan(doctor=user)
    counted = len({record.key for cycle in plan.cycles for record in cycle.records})
    csrf = _get_new_csrf_string()  # a returning browser sends its CSRF cookie: no new one per page
    cookie = f"{settings.SESSION_COOKIE_NAME}={doctor.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"
    return Fixture(user.pk, cookie, len(ledger), counted, len(plan.not_counted), time.perf_counter() - began)


def collect_static(env: dict[str, str]) -> None:
    """Hashed static files and their manifest, as the deployment's collectstatic makes them: with DEBUG off,
    `{% static %}` needs the manifest."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=harness.ROOT,
        env={**os.environ, **env},
        check=True,
    )


def count_queries(fixture: Fixture) -> tuple[int, list[str], int, int]:
    """The plan page once in-process: its SQL statements, its status, and the records it lists."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    assert reverse("learning_plan:plan") == DJANGO_PATH
    client = Client(HTTP_HOST="127.0.0.1")
    client.get(DJANGO_PATH, HTTP_COOKIE=fixture.cookie)  # the first request loads templates and translations
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DJANGO_PATH, HTTP_COOKIE=fixture.cookie)
    listed = response.content.decode().count('data-record="')
    return response.status_code, [query["sql"] for query in queries.captured_queries], listed, len(response.content)


# Where a plan request's time goes, as (file suffix, function) of the profile; nested phases are indented.
PHASES = [
    ("the request, middleware included", "django/core/handlers/base.py", "get_response"),
    ("  session load (SessionMiddleware)", "sessions/backends/db.py", "load"),
    ("  user load (AuthenticationMiddleware)", "django/contrib/auth/__init__.py", "get_user"),
    ("  learning_plan.views.plan", "learning_plan/views.py", "plan"),
    ("    learning_plan", "learning_plan/selectors.py", "learning_plan"),
    (
        "      _records (ledger rows with titles and codes, specialties per kind, grouping)",
        "learning_plan/selectors.py",
        "_records",
    ),
    ("    render (template)", "django/shortcuts.py", "render"),
    ("      {% include %} (per row: sync_state.html)", "django/template/loader_tags.py", "render@IncludeNode"),
    ("      {% blocktranslate %}", "django/templatetags/i18n.py", "render"),
    ("      |date filter", "django/template/defaultfilters.py", "date"),
    ("      form fields rendered (widget templates)", "django/forms/boundfield.py", "as_widget"),
    ("Model.from_db (rows to instances)", "django/db/models/base.py", "from_db"),
    ("SQL compilation, all queries (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("psycopg Cursor.execute, all queries", "psycopg/cursor.py", "execute"),
]


def profile_in_process(fixture: Fixture, count: int) -> str:
    """`count` plan pages in this process through Django's test client under cProfile (CPU time)."""
    from django.test import Client

    from accounts.models import User
    from learning_plan.selectors import learning_plan

    client = Client(HTTP_HOST="127.0.0.1")
    out = io.StringIO()
    client.get(DJANGO_PATH, HTTP_COOKIE=fixture.cookie)
    # First without the profiler, which inflates Python-heavy code (model instances, templates) the most.
    doctor = User.objects.get(pk=fixture.user_id)
    began = time.process_time()
    for _ in range(count):
        client.get(DJANGO_PATH, HTTP_COOKIE=fixture.cookie)
    page = (time.process_time() - began) / count
    began = time.process_time()
    for _ in range(count):
        learning_plan(doctor=doctor)
    selector = (time.process_time() - began) / count
    print(
        f"In-process CPU per plan page, no profiler: {page * 1000:.1f} ms; learning_plan() alone "
        f"{selector * 1000:.1f} ms ({selector / page:.0%}); the rest (template, forms, the other queries, "
        f"middleware) {(page - selector) * 1000:.1f} ms",
        file=out,
    )
    profile = cProfile.Profile(time.process_time)
    began, cpu_began = time.perf_counter(), time.process_time()
    profile.enable()
    statuses = Counter(client.get(DJANGO_PATH, HTTP_COOKIE=fixture.cookie).status_code for _ in range(count))
    profile.disable()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    print(
        f"cProfile: {count} plan pages in-process, {dict(statuses)}: {seconds / count * 1000:.1f} ms wall and "
        f"{cpu / count * 1000:.1f} ms CPU each under the profiler (which inflates Python calls several times).",
        file=out,
    )
    from django.template.loader_tags import IncludeNode

    include = f"render@{IncludeNode.render.__code__.co_firstlineno}"
    phases = [(label, suffix, include if name == "render@IncludeNode" else name) for label, suffix, name in PHASES]
    print(harness.phase_table(pstats.Stats(profile), count, phases, unit="page"), file=out)
    print("Top 25 by own CPU time:", file=out)
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


def serve_and_measure(
    args: argparse.Namespace, env: dict[str, str], cookie: str
) -> tuple[dict[str, harness.RunResult], str]:
    """Start gunicorn, warm both endpoints up, then measure them in rounds of alternating order."""
    database = urlsplit(env["DATABASE_URL"]).path.lstrip("/")
    paths = {"django": DJANGO_PATH, "django-floor": FLOOR_PATH, "bare": BARE_PATH}
    results = {name: harness.RunResult(name) for name in paths}
    port = harness.free_port()
    with tempfile.TemporaryDirectory(prefix="nmo-bench-") as scratch:
        log = Path(scratch) / "gunicorn.log"
        process = harness.start_gunicorn(port=port, env=env, workers=args.workers, threads=args.threads, log=log)
        try:
            harness.wait_ready(port, process)
            for name in paths:
                hammer(name=name, port=port, path=paths[name], cookie=cookie, clients=args.clients, seconds=args.warmup)
            # Rounds reverse the order, so that no endpoint always runs on a warmer or quieter machine.
            for round_ in range(args.rounds):
                for name in list(paths) if round_ % 2 == 0 else reversed(paths):
                    cpu_before = harness.cpu_seconds_by_role(server_pgid=process.pid, database=database)
                    busy_before, all_before = harness.machine_cpu_seconds()
                    run = hammer(
                        name=name,
                        port=port,
                        path=paths[name],
                        cookie=cookie,
                        clients=args.clients,
                        seconds=args.seconds / args.rounds,
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
    parser.add_argument("--events", type=int, default=250, help="credited events (one ledger row each)")
    parser.add_argument("--modules", type=int, default=250, help="credited modules (one ledger row each)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per endpoint, all rounds")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per endpoint, alternating the order")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per endpoint first")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads per worker")
    parser.add_argument(
        "--conn-max-age",
        default=os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        help="DATABASE_CONN_MAX_AGE for gunicorn (default 60: persistent connections; 0 connects per request)",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="then profile N pages in-process")
    parser.add_argument("--show-queries", action="store_true", help="print the page's SQL even when within goal")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    load_before = os.getloadavg()
    redis_url = os.environ.get("REDIS_URL") or harness.BENCH_REDIS_URL
    profile_text = ""
    with tempfile.TemporaryDirectory(prefix="nmo-bench-static-") as static_root:
        overrides = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_STATIC_ROOT": static_root,
            "REDIS_URL": redis_url,
            "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        }
        with harness.bench_database(**overrides) as env:
            from django.db import connection

            collect_static(env)
            harness.flush_bench_redis(redis_url)
            fixture = build(events=args.events, modules=args.modules)
            status, queries, listed, page_bytes = count_queries(fixture)
            connection.close()
            results, server_log = serve_and_measure(args, env, fixture.cookie)
            if args.profile:
                profile_text = profile_in_process(fixture, args.profile)
            harness.flush_bench_redis(redis_url)

    django, floor, bare = results["django"], results["django-floor"], results["bare"]
    ratio = django.rate / bare.rate if bare.rate else 0.0
    print(
        f"«План обучения» over HTTP: gunicorn bench.wsgi, {args.workers} workers × {args.threads} threads (gthread), "
        f"{args.clients} keep-alive clients, CONN_MAX_AGE={args.conn_max_age}, "
        f"{env['BENCH_DATABASE_URL'].rsplit('@', 1)[-1]} (throwaway copy), {redis_url}"
    )
    harness.line("machine", f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before the run")
    harness.line(
        "setup",
        f"{fixture.seconds:.1f} s: {fixture.entries} ledger rows; the page lists {fixture.records_counted} counted "
        f"+ {fixture.records_not_counted} not counted",
    )
    harness.line(
        "plan page in-process",
        f"status {status}, {listed} records listed, {page_bytes:,} bytes, {len(queries)} queries",
    )
    for run in (django, floor, bare):
        p50, p95, p99, top = (harness.percentile_ms(run.latencies, share) for share in (0.5, 0.95, 0.99, 1.0))
        harness.line(
            f"{run.name}: {run.done:,} pages in {run.seconds:.2f} s",
            f"{run.rate:,.1f} req/s; p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms",
        )
        sizes = sorted(run.sizes)
        harness.line(
            f"{run.name}: statuses, transport errors, body bytes",
            f"{dict(run.statuses)}, {dict(run.failures)}, {sizes[0] if sizes else 0:,}–{sizes[-1] if sizes else 0:,}",
        )
        per = 1000 / max(run.done, 1)
        other = run.machine_busy - sum(run.cpu.values())
        harness.line(
            f"{run.name}: CPU ms per page",
            f"gunicorn {run.cpu['server'] * per:.2f}, PostgreSQL {run.cpu['postgres'] * per:.2f}, "
            f"clients {run.cpu['clients'] * per:.2f}, other processes {other * per:.2f}; "
            f"machine {run.machine_busy / max(run.machine_all, 1e-9):.0%} busy",
        )
    harness.line("ratio django / bare req/s (the goal)", f"{ratio:.1%}")
    harness.line(
        "django-floor: the bare work inside Django",
        f"{floor.rate / bare.rate if bare.rate else 0:.1%} of bare req/s; the plan page makes "
        f"{django.rate / floor.rate if floor.rate else 0:.1%} of it",
    )
    if server_log:
        print("gunicorn log (last lines):\n" + "\n".join(server_log.splitlines()[-15:]))
    within = len(queries) <= QUERY_GOAL
    passed = [
        harness.verdict(f"plan ≥ {RATIO_GOAL:.0%} of the bare view's req/s: {ratio:.1%}", ratio >= RATIO_GOAL),
        harness.verdict(f"plan page runs ≤ {QUERY_GOAL} queries: {len(queries)}", within),
        harness.verdict(
            f"every page answered 200 and listed all records: {django.errors} plan errors, {floor.errors} floor "
            f"errors, {bare.errors} bare errors, {listed} of {fixture.records_counted + fixture.records_not_counted} "
            "listed in-process",
            django.errors == floor.errors == bare.errors == 0
            and min(django.done, floor.done, bare.done) > 0
            and status == 200
            and listed == fixture.records_counted + fixture.records_not_counted,
        ),
    ]
    if args.show_queries or not within:
        print(f"\nThe plan page's {len(queries)} queries:")
        for sql in queries:
            print(f"  {sql[:200]}")
    if profile_text:
        print("\n" + profile_text)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
