"""Reading hostile uploads: the peak memory and the time of the portal's attendee-list reader on each bomb of
`tests/bombs.py`, and on a real list of 50,000 attendees, in a child process per file.

    .venv/bin/python bench/uploads.py                 # the reader of this checkout
    .venv/bin/python bench/uploads.py --before f19c0dd   # also the reader of that commit ("before")

Each file is built here, written to a temporary file and read by a fresh child process
(`codes.attendees.read_attendees`, which reads through `nmo_portal.spreadsheets`), so the child's peak RSS
(`ru_maxrss`) is the reader's and not the builder's. A child is stopped after `--timeout` seconds and may use at
most `--memory` MB of address space: the "before" reader is expected to hit one of them. Needs no database.

Goal: every bomb is refused within 2 s and under 100 MB above the child's baseline; a clean list of 50,000
attendees is still read.
"""

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 2.0
GOAL_MB = 100


def files() -> dict[str, tuple[str, bytes]]:
    from tests import bombs

    return {
        "sheet bomb: 40 MB of rows": ("list.xlsx", bombs.sheet_bomb(40)),
        "shared strings: 40 MB": ("list.xlsx", bombs.shared_strings_bomb(40)),
        "styles: 40 MB of cell formats": ("list.xlsx", bombs.styles_bomb(40)),
        "shared strings under a sheet's name: 12 MB": ("list.xlsx", bombs.hidden_shared_strings_bomb(12)),
        "a cell on row 1,048,576": ("list.xlsx", bombs.far_rows()),
        "2,000 rows with a cell in column XFD": ("list.xlsx", bombs.far_columns(2_000)),
        "a row of 16,384 cells": ("list.xlsx", bombs.wide_row()),
        "a cell of 20,000 characters": ("list.xlsx", bombs.long_cell()),
        "CSV with a NUL byte": ("list.csv", bombs.csv_with_nul()),
        "CSV of 11 MB": ("list.csv", bombs.oversized_csv(11)),
        "clean list: 50,000 attendees (XLSX)": ("list.xlsx", _clean_xlsx(50_000)),
        "clean list: 50,000 attendees (CSV)": ("list.csv", _clean_csv(50_000)),
    }


def _clean_xlsx(count: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["ФИО", "E-mail", "СНИЛС"])
    for n in range(count):
        sheet.append([f"Участникова Мария Сергеевна {n}", f"person{n}@example.org", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _clean_csv(count: int) -> bytes:
    lines = ["ФИО;E-mail;СНИЛС"] + [f"Участникова Мария Сергеевна {n};person{n}@example.org;" for n in range(count)]
    return "\r\n".join(lines).encode("cp1251")


def child(path: str, name: str, reader_source: str | None) -> None:
    """Runs in the child: read one file with the portal's reader (or the one in `reader_source`), print figures."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmo_portal.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.utils import translation

    from codes import attendees
    from nmo_portal import spreadsheets

    translation.activate("en")
    if reader_source:
        # The old reader in place of today's, wherever the attendee reader took one of its names.
        before: dict[str, object] = {"__name__": "nmo_portal.spreadsheets_before", "__package__": "nmo_portal"}
        exec(compile(Path(reader_source).read_text(), "spreadsheets_before.py", "exec"), before)  # noqa: S102
        for shared, value in vars(spreadsheets).items():
            if shared in before and getattr(attendees, shared, None) is value:
                setattr(attendees, shared, before[shared])

    data = Path(path).read_bytes()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = attendees.read_attendees(data, name)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = f"{len(result.attendees)} attendees" if result.ok else (result.file_error or "row errors")[:70]
    print(f"{elapsed:.2f}\t{(peak - baseline) / 1024:.0f}\t{peak / 1024:.0f}\t{outcome}")


def measure(path: str, name: str, reader_source: str | None, timeout: float, memory_mb: int) -> tuple[str, ...]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))

    command = [sys.executable, __file__, "--child", path, name]
    if reader_source:
        command += ["--reader", reader_source]
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and script
            command, capture_output=True, text=True, timeout=timeout, preexec_fn=limit, cwd=ROOT, check=False
        )
    except subprocess.TimeoutExpired:
        return (f">{timeout:.0f}", "?", "?", "stopped: took too long")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1][:70]
        return (f"{time.perf_counter() - started:.2f}", "?", f">{memory_mb}?", f"crashed: {last}")
    seconds, grown, peak, outcome = done.stdout.strip().splitlines()[-1].split("\t")
    return (seconds, grown, peak, outcome)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", help="a commit whose spreadsheet reader is measured too")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--memory", type=int, default=3000, help="address space limit of a child, MB")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.reader)
        return 0

    readers: dict[str, str | None] = {"after": None}
    with tempfile.TemporaryDirectory() as folder:
        if args.before:
            # the reader lived in credits/ until the structure change of issue 12
            shown = [
                subprocess.run(  # noqa: S603
                    ["git", "show", f"{args.before}:{path}"],  # noqa: S607
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                for path in ("nmo_portal/spreadsheets.py", "credits/spreadsheets.py")
            ]
            source = next(done.stdout for done in shown if done.returncode == 0)
            before = Path(folder, "spreadsheets_before.py")
            before.write_text(source)
            readers = {"before": str(before), "after": None}
        failed = False
        print(f"{'file':45} {'reader':6} {'size':>9} {'s':>7} {'+MB':>6} {'peak MB':>8}  outcome")
        for label, (name, data) in files().items():
            path = Path(folder, name)
            path.write_bytes(data)
            for reader, reader_source in readers.items():
                seconds, grown, peak, outcome = measure(str(path), name, reader_source, args.timeout, args.memory)
                print(f"{label:45} {reader:6} {len(data):>9} {seconds:>7} {grown:>6} {peak:>8}  {outcome}")
                if reader == "after" and not label.startswith("clean"):
                    fast = seconds.replace(".", "", 1).isdigit() and float(seconds) <= GOAL_SECONDS
                    small = grown.isdigit() and int(grown) <= GOAL_MB
                    failed |= not (fast and small)
                if reader == "after" and label.startswith("clean"):
                    failed |= "attendees" not in outcome
        print("PASS" if not failed else "FAIL", f"(bombs refused within {GOAL_SECONDS} s and {GOAL_MB} MB)")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
