"""The accreditation portfolio's export: a doctor with 500 records of education and 20 MB of scans, built into
the ZIP by the task's own function (`learning_plan.export.build_portfolio_export`), in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nmo_bench .venv/bin/python bench/portfolio_export.py
    .venv/bin/python bench/portfolio_export.py --records 2000 --scan-mb 40 --profile

The doctor's psychiatry document was issued four years ago. Its period holds 500 records: 250 credits of the
register (approved events, activated codes, ledger and outbox rows in bulk), 200 programmes the doctor entered
and 50 records the Ministry holds that the portal did not send. The scans are random pixels, which no encoder
compresses well (the worst case for the size limit): a 9.8 MB PNG, an 8 MB JPEG of an A4 page at 300 dpi and a
3 MB scanned PDF, repeated until `--scan-mb` is reached; each is uploaded through `scans.scan_add` into a
throwaway private storage (a temporary PRIVATE_FILES_ROOT).

Prints each document's size and pages, the ZIP's size, the build time (and the time per document), and the
peak memory. Goal: every PDF is at most PORTFOLIO_PDF_MAX_BYTES (10 MB). The time is reported, not judged.
"""

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

PSYCHIATRY = "31.08.20"
MB = 1024 * 1024


def noisy(width: int, height: int, fmt: str, **options) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def build_portfolio(*, records: int, scan_mb: int):
    """The doctor, the document and its portfolio, the records of the period and the scans."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.models import Specialty, User
    from bench import data
    from credits.models import CreditEntry
    from learning_plan import scans, services
    from learning_plan.models import ProgrammeEntry
    from ministry_sync.models import HeldRecord

    tag = data.run_tag()
    organization, _member = data.provider(tag)
    psychiatry = Specialty.objects.get(code=PSYCHIATRY)
    doctor = User.objects.get(pk=data.signed_in_doctors(1, tag)[0].user_id)
    User.objects.filter(pk=doctor.pk).update(last_name="Иванова", first_name="Мария", middle_name="Сергеевна")
    doctor.refresh_from_db()
    doctor.doctor_profile.specialties.add(psychiatry)
    today = timezone.localdate()
    document = services.document_record(
        doctor=doctor, specialty=psychiatry, number=f"0377-{tag}", issued_on=today - timedelta(days=4 * 365)
    )
    portfolio = document.portfolio

    register, entered = records // 2, records * 2 // 5
    held = records - register - entered
    spread = [30 + (i * 1400) // max(register, 1) for i in range(register)]
    events = data.approved_events(organization, n=register, tag=tag, specialties=[psychiatry], ended_days_ago=spread)
    codes = data.activated_codes([(event, doctor.pk) for event in events])
    data.ledger_with_outbox(
        [
            CreditEntry(
                doctor=doctor,
                kind=CreditEntry.Kind.CREDIT,
                source=CreditEntry.Source.CODE,
                source_id=code.pk,
                activity_kind="event",
                activity_id=event.pk,
                credits=event.credits_granted or 0,
                earned_on=event.end_date,
                actor=doctor,
            )
            for event, code in zip(events, codes, strict=True)
        ],
        delivered_share=0.95,
    )
    ProgrammeEntry.objects.bulk_create(
        ProgrammeEntry(
            doctor=doctor,
            specialty=psychiatry,
            name=f"Программа повышения квалификации № {i + 1}: клиническая психиатрия и психофармакотерапия",
            organization="ФГБОУ ДПО «Российская медицинская академия непрерывного профессионального образования»",
            hours=36,
            starts_on=document.issued_on + timedelta(days=20 + i * 1400 // entered),
            ends_on=document.issued_on + timedelta(days=24 + i * 1400 // entered),
            document_number=f"ПК-{tag}-{i + 1:05d}",
        )
        for i in range(entered)
    )
    HeldRecord.objects.bulk_create(
        HeldRecord(
            doctor=doctor,
            idempotency_key=f"ministry-{tag}-{i}",
            kind=HeldRecord.Kind.MODULES,
            hours=2,
            title=f"Интерактивный модуль Минздрава № {i + 1}",
            earned_on=document.issued_on + timedelta(days=40 + i * 1400 // held),
            specialty_code=psychiatry.code,
            source_ref=f"M-{i + 1:05d}",
        )
        for i in range(held)
    )

    kinds = [("diploma", "PNG", 1850, 1850, {}), ("work_book", "JPEG", 2480, 3508, {"quality": 92})]
    kinds.append(("programme", "PDF", 1600, 2200, {"quality": 90}))
    uploaded, n = 0, 0
    while uploaded < scan_mb * MB:
        kind, fmt, width, height, options = kinds[n % len(kinds)]
        content = noisy(width, height, fmt, **options)
        scans.scan_add(
            portfolio=portfolio,
            doctor=doctor,
            kind=kind,
            title="",
            uploaded_file=SimpleUploadedFile(f"scan-{n}", content),
        )
        uploaded += len(content)
        n += 1
    return portfolio, uploaded, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=500, help="records of education in the period")
    parser.add_argument("--scan-mb", type=int, default=20, help="megabytes of scans uploaded")
    parser.add_argument("--profile", action="store_true", help="then profile one more build")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="nmo-bench-private-") as private_root,
        harness.bench_database(PRIVATE_FILES_ROOT=private_root),
    ):
        from django.conf import settings
        from django.core.files.storage import storages

        from learning_plan import export, export_documents, export_scans
        from learning_plan.models import PortfolioExport

        began = time.perf_counter()
        portfolio, uploaded, scan_count = build_portfolio(records=args.records, scan_mb=args.scan_mb)
        setup = time.perf_counter() - began
        found = export.portfolio_read(portfolio)

        queued = PortfolioExport.objects.create(portfolio=portfolio)
        harness.reset_peak_rss()
        rss_before = harness.proc_status_kib("VmRSS")
        began = time.perf_counter()
        name = export.build_portfolio_export(export_id=queued.pk)
        seconds = time.perf_counter() - began
        peak = harness.proc_status_kib("VmHWM")
        queued.refresh_from_db()
        with storages["private"].open(name, "rb") as file:
            archive_bytes = file.read()

        # Each document again on its own, for where the time goes.
        timings = {}
        began = time.perf_counter()
        export_documents.education_pdf(found, doctor=portfolio.doctor)
        timings["education PDF"] = time.perf_counter() - began
        began = time.perf_counter()
        export_documents.report_pdf(found, doctor=portfolio.doctor)
        timings["report PDF"] = time.perf_counter() - began
        began = time.perf_counter()
        for scan in portfolio.scans.all():
            export_scans.scan_pdf(scan, limit=settings.PORTFOLIO_PDF_MAX_BYTES)
        timings[f"{scan_count} scans"] = time.perf_counter() - began

        profile_text = ""
        if args.profile:
            again = PortfolioExport.objects.create(portfolio=portfolio)
            profiler = cProfile.Profile()
            profiler.enable()
            export.build_portfolio_export(export_id=again.pk)
            profiler.disable()
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
            profile_text = stream.getvalue()
        limit = settings.PORTFOLIO_PDF_MAX_BYTES

    from pypdf import PdfReader

    print(f"Portfolio export: {args.records} records, {scan_count} scans of {uploaded / MB:.1f} MB (random pixels)")
    harness.line("setup", f"{setup:.1f} s; education table rows: {len(found.items)}")
    harness.line("state", f"{queued.state}, progress {queued.progress}%")
    harness.line("build (the task, in-process)", f"{seconds:.2f} s")
    for label, spent in timings.items():
        harness.line(f"  of which {label}", f"{spent:.2f} s")
    harness.line("memory", f"RSS {rss_before / 1024:.0f} MB before, peak {peak / 1024:.0f} MB during the build")
    harness.line("ru_maxrss (upper bound)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    harness.line("ZIP", f"{len(archive_bytes):,} bytes ({len(archive_bytes) / MB:.2f} MB)")
    within = True
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            within &= len(content) <= limit
            harness.line(
                f"  {info.filename}", f"{len(content) / MB:6.2f} MB, {len(PdfReader(io.BytesIO(content)).pages)} pages"
            )
    if profile_text:
        print(profile_text)
    return 0 if harness.verdict(f"every PDF at most {limit / MB:.0f} MB", within) else 1


if __name__ == "__main__":
    sys.exit(main())
