"""Issuing 100,000 blank ИКП codes in-process, against a raw COPY of as many equivalent rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/issue_codes.py

Goals: `codes_issue` takes at most 4× the raw COPY, and the process grows by at most 150 MB while it runs.
The baseline COPYs rows prepared beforehand (same columns, random codes and tokens) into a TEMP table made
`LIKE codes_icpcode INCLUDING ALL`: the same unique indexes, but neither WAL nor foreign-key checks, so it
is the floor the database allows, not a second implementation. The run works in a throwaway copy of the
bench database, dropped at the end.
"""

import argparse
import cProfile
import gc
import io
import pstats
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

COPY_COLUMNS = (
    "code, event_id, batch_id, holder_name, holder_email, holder_snils, verify_token, status, "
    "show_holder_name, revoke_reason, created_at"
)
MEMORY_GOAL_MB = 150
RATIO_GOAL = 4.0


def copy_payload(*, count: int, event_id: int, batch_id: int) -> bytes:
    """COPY text of `count` rows as `_insert_codes` writes them, built chunk by chunk so that no list of
    100,000 strings outlives it (the memory measured next must not inherit its arenas)."""
    from django.utils import timezone

    from codes.format import generate_codes
    from codes.models import new_verify_token

    now = timezone.now().isoformat()
    out = io.BytesIO()
    for start in range(0, count, 10_000):
        chunk = generate_codes(min(10_000, count - start))
        out.write(
            "".join(
                f"{code}\t{event_id}\t{batch_id}\t\t\t\t{new_verify_token()}\tissued\tf\t\t{now}\n" for code in chunk
            ).encode()
        )
    return out.getvalue()


def raw_copy(payload: bytes) -> float:
    """Seconds to COPY the payload into a fresh TEMP copy of the codes table and commit."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_icpcode")
        cursor.execute("CREATE TEMP TABLE bench_icpcode (LIKE codes_icpcode INCLUDING ALL)")
    view = memoryview(payload)
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(f"COPY bench_icpcode ({COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        for offset in range(0, len(view), 1 << 20):
            copy.write(view[offset : offset + (1 << 20)])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_icpcode")
        (stored,) = cursor.fetchone() or (0,)
        cursor.execute("DROP TABLE bench_icpcode")
    assert stored == payload.count(b"\n"), stored
    return seconds


def issue(*, event, actor, count: int):
    """codes_issue in-process: the synchronous limit raised so that no Celery task takes the work away."""
    from django.conf import settings
    from django.test import override_settings

    from codes.issuance import codes_issue

    limit = max(count, settings.ICP_MAX_CODES_PER_ISSUE)
    with override_settings(ICP_SYNC_ISSUE_LIMIT=limit, ICP_MAX_CODES_PER_ISSUE=limit):
        return codes_issue(event=event, actor=actor, count=count)


def check_issued(batch, count: int) -> None:
    from codes.models import IcpCode, IssuanceBatch

    batch.refresh_from_db()
    stored = IcpCode.objects.filter(batch=batch).count()
    assert batch.state == IssuanceBatch.State.DONE, batch.state
    assert batch.issued == count == stored, (batch.issued, stored)


@dataclass
class Measurements:
    copy_seconds: float = 0.0
    issue_seconds: float = 0.0
    baseline_kib: int = 0
    peak_kib: int = 0
    maxrss_kib: int = 0
    hwm_reset: bool = False
    traced_peak: int = 0
    traced_seconds: float = 0.0
    server: str = ""
    profile: cProfile.Profile | None = None


def measure(*, count: int, profile: bool) -> Measurements:
    from django.db import connection

    from bench import data

    found = Measurements()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        found.server = str((cursor.fetchone() or ("?",))[0])
    tag = data.run_tag()
    organization, member = data.provider(tag)
    events = [data.approved_event(organization, title=f"Bench issuance {tag} #{n}", ended=False) for n in (1, 2, 3)]

    # The baseline's batch_id needs no batch (a TEMP table has no foreign keys); any id is as wide.
    payload = copy_payload(count=count, event_id=events[0].pk, batch_id=events[0].pk)
    found.copy_seconds = raw_copy(payload)
    del payload

    gc.collect()
    found.baseline_kib = harness.proc_status_kib("VmRSS")
    found.hwm_reset = harness.reset_peak_rss()
    started = time.perf_counter()
    batch = issue(event=events[0], actor=member, count=count)
    found.issue_seconds = time.perf_counter() - started
    found.peak_kib = harness.proc_status_kib("VmHWM")
    found.maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    check_issued(batch, count)

    # Python's own allocations, on a second event: tracemalloc slows every allocation, so this run is not
    # the one compared with the baseline.
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    traced_batch = issue(event=events[1], actor=member, count=count)
    found.traced_seconds = time.perf_counter() - started
    found.traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    check_issued(traced_batch, count)

    if profile:
        found.profile = cProfile.Profile()
        found.profile.enable()
        profiled = issue(event=events[2], actor=member, count=count)
        found.profile.disable()
        check_issued(profiled, count)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="codes to issue (default 100,000)")
    parser.add_argument("--profile", action="store_true", help="also run one issuance under cProfile, print the top")
    args = parser.parse_args()

    with harness.bench_database() as env:
        found = measure(count=args.count, profile=args.profile)

    rss_growth_mb = (found.peak_kib - found.baseline_kib) * 1024 / 1e6
    maxrss_growth_mb = (found.maxrss_kib - found.baseline_kib) * 1024 / 1e6
    traced_mb = found.traced_peak / 1e6
    ratio = found.issue_seconds / found.copy_seconds
    print(
        f"ИКП issuance: codes_issue(count={args.count:,}) in-process vs raw COPY — PostgreSQL {found.server}, "
        f"{env['BENCH_DATABASE_URL'].rsplit('@', 1)[-1]} (run in a throwaway copy, dropped)"
    )
    harness.line("rows", f"{args.count:,}")
    harness.line("raw COPY into TEMP LIKE codes_icpcode", f"{found.copy_seconds:.2f} s")
    harness.line("codes_issue", f"{found.issue_seconds:.2f} s ({args.count / found.issue_seconds:,.0f} codes/s)")
    harness.line("ratio codes_issue / raw COPY", f"{ratio:.2f}×")
    harness.line("RSS before codes_issue (baseline)", f"{found.baseline_kib * 1024 / 1e6:.1f} MB")
    harness.line(
        "RSS peak above baseline (VmHWM)",
        f"{rss_growth_mb:.1f} MB" + ("" if found.hwm_reset else " (VmHWM could not be reset: the process's peak)"),
    )
    harness.line("ru_maxrss above baseline (upper bound)", f"{maxrss_growth_mb:.1f} MB")
    harness.line(
        "Python allocations peak (tracemalloc)", f"{traced_mb:.1f} MB (that run took {found.traced_seconds:.2f} s)"
    )
    passed = [
        harness.verdict(f"codes_issue ≤ {RATIO_GOAL:g}× raw COPY: {ratio:.2f}×", ratio <= RATIO_GOAL),
        harness.verdict(
            f"peak memory ≤ {MEMORY_GOAL_MB} MB above baseline: RSS {rss_growth_mb:.1f} MB, Python {traced_mb:.1f} MB",
            max(rss_growth_mb, traced_mb) <= MEMORY_GOAL_MB,
        ),
    ]
    if found.profile is not None:
        print("\ncProfile of one more codes_issue (top 20 by own time):")
        pstats.Stats(found.profile, stream=sys.stdout).sort_stats("tottime").print_stats(20)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
