"""What the bench scripts share: the environment they run in, the bench database, memory gauges, and the
lines they print.

The scripts run with production-like settings (DEBUG off, so Django keeps no query log) against PostgreSQL
only: the goals are about the database the portal runs on, and SQLite would measure something else.
"""

import http.client
import os
import pstats
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/nmo_bench"
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"  # the cache, counters and broker of the HTTP benches, unless REDIS_URL
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105 - a throwaway key
BENCH_MINISTRY_TOKEN = "bench-only-ministry-token"  # noqa: S105 - the development token is refused with DEBUG off
EMAIL_DOMAIN = "@bench.invalid"


def bench_environment(**overrides: str) -> dict[str, str]:
    """The variables the portal reads, as the bench runs it: the caller's own values win, except DEBUG."""
    env = {
        "DATABASE_URL": DEFAULT_DATABASE_URL,
        "SECRET_KEY": BENCH_SECRET_KEY,
        "MINISTRY_API_TOKEN": BENCH_MINISTRY_TOKEN,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    env.update({name: os.environ[name] for name in env if os.environ.get(name)})
    env.update(overrides)
    env["DEBUG"] = "0"  # with DEBUG on, Django keeps every query in memory: not what production measures
    # bench.settings is the portal's settings with STATIC_ROOT movable (bench/plan.py collects static files)
    env["DJANGO_SETTINGS_MODULE"] = overrides.get("DJANGO_SETTINGS_MODULE", "nmo_portal.settings")
    return env


def flush_bench_redis(url: str) -> None:
    """Empty the bench's own Redis database (BENCH_REDIS_URL; a REDIS_URL of the caller's is left alone).

    Before a run: each run's database copy starts its ids where the last one did, so a cached entry of an
    earlier run (rate-limit counters, a doctor's cached plan) would meet a new doctor with the same id.
    After it: the e-mails and Ministry pushes queued for a Celery worker that the bench does not run."""
    if url != BENCH_REDIS_URL:
        return
    import redis

    redis.Redis.from_url(url).flushdb()


def _maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def ensure_database(url: str) -> None:
    """Create the bench database when it is missing, connecting to the server's `postgres` database."""
    import psycopg
    from psycopg import sql

    if not urlsplit(url).scheme.startswith("postgres"):
        sys.exit(f"The bench needs PostgreSQL: DATABASE_URL={url!r}")
    name = _database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clone_database(url: str) -> str:
    """A throwaway copy of the migrated bench database for this run (`<name>_run_<pid>`); copies that runs
    killed before their end left behind are dropped first."""
    import psycopg
    from psycopg import sql

    name = _database_name(url)
    prefix = f"{name}_run_"
    clone = f"{prefix}{os.getpid()}"
    with psycopg.connect(_maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]).fetchall()
        for (stale,) in rows:
            suffix = stale[len(prefix) :]
            if not suffix.isdigit() or not _pid_alive(int(suffix)) or int(suffix) == os.getpid():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(stale)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(clone), sql.Identifier(name)))
    return urlunsplit(urlsplit(url)._replace(path=f"/{clone}"))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_maintenance_url(url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_database_name(url))))


@contextmanager
def bench_database(**overrides: str) -> Iterator[dict[str, str]]:
    """Migrate the bench database (DATABASE_URL), run in a throwaway copy of it with Django set up in this
    process, and drop the copy at the end: the bench leaves no rows behind, whatever the app's schema holds.
    Yields the environment of the run (DATABASE_URL names the copy; BENCH_DATABASE_URL the bench database)."""
    env = bench_environment(**overrides)
    base = env["DATABASE_URL"]
    ensure_database(base)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env={**os.environ, **env}, check=True
    )
    env["DATABASE_URL"] = clone_database(base)
    env["BENCH_DATABASE_URL"] = base
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        import django

        django.setup()
        yield env
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(env["DATABASE_URL"])


def proc_status_kib(field: str) -> int:
    """A field of /proc/self/status in KiB, e.g. VmRSS (resident now) or VmHWM (resident peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0), so the next peak belongs to what runs next."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, summed over its cores (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def cpu_seconds_by_role(
    *, server_pgid: int, database: str, groups: Mapping[str, int] | None = None
) -> dict[str, float]:
    """User + system CPU seconds of the live processes that serve a bench run: the server's process group
    (gunicorn and its workers), this process (the clients), the PostgreSQL backends connected to `database`
    with the server's background processes (WAL writer, checkpointer…), and redis-server. `groups` names more
    process groups (role → pgid: a Celery worker, a redis-server of the bench's own). A process that exits
    takes its CPU time along: with DATABASE_CONN_MAX_AGE=0 the backends' share is lost to "other".
    """
    tick = os.sysconf("SC_CLK_TCK")
    by_group = {pgid: role for role, pgid in (groups or {}).items()}
    totals = dict.fromkeys(("server", "clients", "postgres", "redis", *by_group.values()), 0.0)
    own = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[2]) == server_pgid:
            totals["server"] += seconds
        elif int(fields[2]) in by_group:
            totals[by_group[int(fields[2])]] += seconds
        elif int(entry.name) == own:
            totals["clients"] += seconds
        elif command.startswith("postgres: ") and (
            f" {database} " in command or not ("(" in command or "[local]" in command)
        ):
            totals["postgres"] += seconds  # the bench database's backends, and the shared background processes
        elif command.startswith("redis-server"):
            totals["redis"] += seconds
    return totals


@dataclass
class RunResult:
    """What the clients of one endpoint saw in a run (or several runs, `add`ed): latencies, statuses, transport
    failures, a few sample refusals, body sizes, and the CPU the run cost by role and on the whole machine."""

    name: str
    expected: int = 200  # the status every request should get
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    sizes: Counter[int] = field(default_factory=Counter)
    # CPU seconds spent during the run by role (cpu_seconds_by_role), and by the whole machine
    cpu: Counter[str] = field(default_factory=Counter)
    machine_busy: float = 0.0
    machine_all: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def succeeded(self) -> int:
        return self.statuses[self.expected]

    @property
    def errors(self) -> int:
        return self.done - self.succeeded + sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def add(self, other: "RunResult") -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.statuses.update(other.statuses)
        self.failures.update(other.failures)
        self.samples += other.samples[: max(0, 3 - len(self.samples))]
        self.sizes.update(other.sizes)
        self.cpu.update(other.cpu)
        self.machine_busy += other.machine_busy
        self.machine_all += other.machine_all

    def percentile_ms(self, share: float) -> float:
        return percentile_ms(self.latencies, share)


def percentile_ms(seconds: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of latencies in seconds, in milliseconds (NaN when there are none)."""
    ordered = sorted(seconds)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] * 1000


# Servers the benches start: gunicorn, Celery workers, redis-server. Each runs in its own session, so that
# stopping it stops its children and nothing else.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_process(command: Sequence[str], *, env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A server in its own session, with the portal's environment on top of this process's."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - command lines built by the benches
            list(command), cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out, start_new_session=True
        )


def start_gunicorn(
    *,
    port: int,
    env: Mapping[str, str],
    workers: int,
    threads: int,
    log: Path,
    app: str = "bench.wsgi:application",
    worker_class: str = "gthread",
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        "--keep-alive=5",
        "--timeout=30",
        "--graceful-timeout=5",
        "--log-level=warning",
        f"--chdir={ROOT}",
    ]
    return start_process(command, env=env, log=log)


def wait_ready(port: int, process: subprocess.Popen[bytes], *, path: str = "/healthz", timeout: float = 30.0) -> None:
    """Until GET `path` answers 200; the server exiting or the time running out is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {path} in time")


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """SIGTERM to the server (gunicorn and Celery stop their children), SIGKILL to its own process group
    if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


stop_gunicorn = stop_process


def phase_table(
    stats: pstats.Stats, count: int, phases: Sequence[tuple[str, str, str]], *, unit: str, clock: str = "CPU"
) -> str:
    """Cumulative time of the phases (label, file suffix, function; the first is the whole) per `unit`, and
    as a share of the whole. A function given as `name@line` is the one defined at that line (one method among
    same-named ones in a file)."""
    cumulative: dict[tuple[str, str], float] = {}
    for (filename, line_number, function), row in stats.stats.items():  # type: ignore[attr-defined]
        for _label, suffix, name in phases:
            wanted, _at, line = name.partition("@")
            if function == wanted and filename.endswith(suffix) and (not line or int(line) == line_number):
                # the outermost of same-named functions in one file (Serializer.data calls BaseSerializer.data)
                cumulative[(suffix, name)] = max(cumulative.get((suffix, name), 0.0), row[3])
    total = cumulative.get((phases[0][1], phases[0][2]), 0.0) or 1.0
    heading = f"Phase (cumulative {clock} under the profiler)"
    lines = [f"{heading:<57} {'ms/' + unit:>14}   share"]
    for label, suffix, name in phases:
        if (suffix, name) in cumulative:
            seconds = cumulative[(suffix, name)]
            lines.append(f"  {label:<54} {seconds / count * 1000:14.2f}   {seconds / total:6.1%}")
    return "\n".join(lines)


def line(label: str, value: object) -> None:
    print(f"  {label:<44} {value}")


def verdict(goal: str, ok: bool) -> bool:
    print(f"  {'PASS' if ok else 'FAIL'}  {goal}")
    return ok
