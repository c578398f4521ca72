"""Bulk `$export` on a loaded shared record: resources per second and memory as it runs.

    .venv/bin/python bench/fhir_export.py --postgres postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/fhir_export.py --postgres URL --reuse     # the database left by
                                                  # bench/fhir_everything.py --keep
    .venv/bin/python bench/fhir_export.py --smoke                     # seconds; CI

Without `--reuse` a fresh database is loaded as `bench/fhir_everything.py` loads it
(`--background` persons × `--per-person` resources, plus shared Organizations, Practitioners
and Locations). Then a system-level export is kicked off as a public hospital's client (so
the consent predicate is in every query) and run to the end by the export's own slices, as
the worker runs them. A thread samples this process's resident memory every 50 ms: printed
are resources/s, bytes written, files, and the resident memory before, at each quarter and
at its peak, which stays flat however many resources there are.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fhir_everything import DATABASE, HOSPITAL, load_records, measured_database
from bench.people_population import (
    drop_postgres,
    machine_line,
    setup_django,
)

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.05)


def run_export(*, file_bytes: int) -> None:
    from django.conf import settings
    from django.db import transaction

    from cityhealth.fhir import export
    from cityhealth.fhir.models import ExportJob
    from cityhealth.records.consent import Accessor
    from cityhealth.records.models import Resource

    settings.FHIR_EXPORT_FILE_BYTES = file_bytes
    settings.FHIR_EXPORT_SLICE_SECONDS = 3600
    total = Resource.objects.filter(deleted=False).count()
    with transaction.atomic():
        job = export.kick_off(
            owner="client:bench",
            accessor=Accessor(organization=HOSPITAL),
            request_url="/fhir/R4/$export",
            asked=export.ExportRequest(level="system"),
        )
    before = rss_mb()
    sampler = Sampler()
    sampler.start()
    quarters: list[float] = []
    started = time.perf_counter()
    # Run it in slices of 10 chunks, as a worker would run it in slices of a minute.
    while export.run_slice(job_id=str(job.pk), max_chunks=10) == "again":
        done = ExportJob.objects.get(pk=job.pk).exported
        while len(quarters) < 4 and done >= total * (len(quarters) + 1) / 4:
            quarters.append(rss_mb())
    elapsed = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    job.refresh_from_db()
    assert job.status == ExportJob.Status.COMPLETED, job.error
    files = job.cursor["files"]
    written = sum(f["bytes"] for f in files)
    print(
        f"exported {job.exported:,} of {total:,} resources in {elapsed:.1f} s: "
        f"{job.exported / elapsed:,.0f} resources/s, {written / 2**20:,.0f} MiB in "
        f"{len(files)} files (limit {file_bytes / 2**20:.0f} MiB)"
    )
    print(
        "resident memory: before {:.0f} MiB, at each quarter {}, peak {:.0f} MiB (+{:.0f})".format(
            before,
            " / ".join(f"{q:.0f}" for q in quarters) or "-",
            sampler.peak,
            sampler.peak - before,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL URL (its server gets a fresh database)")
    parser.add_argument("--reuse", action="store_true", help=f"use {DATABASE} as it is")
    parser.add_argument("--background", type=int, default=5000)
    parser.add_argument("--per-person", type=int, default=40)
    parser.add_argument("--file-mib", type=int, default=64)
    parser.add_argument("--keep", action="store_true", help="leave the database")
    parser.add_argument("--smoke", action="store_true", help="tiny, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.background, args.per_person, args.file_mib = 200, 10, 1

    with tempfile.TemporaryDirectory() as workdir:
        os.environ["CITYHEALTH_FHIR_EXPORT_DIR"] = f"{workdir}/export"
        url = measured_database(postgres=args.postgres, reuse=args.reuse, workdir=workdir)
        setup_django(url, workdir)
        from django.core.management import call_command
        from django.db import connection

        try:
            call_command("migrate", verbosity=0)
            print(machine_line(connection.vendor))
            if not args.reuse:
                _, seconds = load_records(
                    background=args.background,
                    per_person=args.per_person,
                    patients=0,
                    resources=0,
                    seed=1,
                )
                print(f"loaded in {seconds:.1f} s")
            run_export(file_bytes=args.file_mib * 2**20)
        finally:
            connection.close()
            if args.postgres and not args.keep and not args.reuse:
                drop_postgres(args.postgres, DATABASE)


if __name__ == "__main__":
    main()
