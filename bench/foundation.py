"""Foundation figures: identifier parsing rates, audit append and verify rates.

    .venv/bin/python bench/foundation.py                       # SQLite file in a temp folder
    .venv/bin/python bench/foundation.py --postgres URL        # a fresh database at URL
    .venv/bin/python bench/foundation.py --smoke               # seconds; what CI runs

Prints one line per figure. The database is created for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _rate(label: str, count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    per_second = count / elapsed
    print(f"{label:<44} {count:>9,} in {elapsed:7.3f} s = {per_second:>12,.0f} /s")
    return per_second


def _prepare_database(args: argparse.Namespace, workdir: str) -> str:
    if args.postgres:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            connection.execute("DROP DATABASE IF EXISTS cityhealth_bench")
            connection.execute("CREATE DATABASE cityhealth_bench")
        return f"{base}/cityhealth_bench"
    return f"sqlite:///{workdir}/bench.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--smoke", action="store_true", help="small counts, for CI")
    args = parser.parse_args()
    parse_n, audit_n = (2_000, 200) if args.smoke else (200_000, 20_000)

    with tempfile.TemporaryDirectory() as workdir:
        os.environ["CITYHEALTH_DATABASE_URL"] = _prepare_database(args, workdir)
        os.environ["CITYHEALTH_VAR_DIR"] = workdir
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction

        from cityhealth.core.audit import record_audit, seal_pending, verify_chain
        from cityhealth.core.identifiers import parse_bhyt_code, parse_cccd_qr, parse_citizen_id

        call_command("migrate", verbosity=0)
        print(
            f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, database {connection.vendor}"
        )

        ids = [f"001{i % 2}{i % 100:02d}{i % 1_000_000:06d}" for i in range(parse_n)]
        qr = [
            f"{number}||NGUYỄN VĂN AN|0101{1900 + int(number[4:6])}|Nữ|Phố Huế, Hà Nội|01012022"
            for number in ids
        ]
        cards = [f"DN401{i % 10**10:010d}" for i in range(parse_n)]
        _rate("parse_citizen_id", parse_n, lambda: [parse_citizen_id(n) for n in ids])
        _rate("parse_cccd_qr", parse_n, lambda: [parse_cccd_qr(q) for q in qr])
        _rate("parse_bhyt_code", parse_n, lambda: [parse_bhyt_code(c) for c in cards])

        def append(count: int) -> None:
            for i in range(count):
                with transaction.atomic():
                    record_audit(
                        actor="user:1",
                        action="person.read",
                        target_type="person",
                        target_id=i,
                        details={"purpose": "treatment"},
                    )
            connection.close()

        def append_in_threads(threads: int) -> None:
            workers = [
                threading.Thread(target=append, args=(audit_n // threads,)) for _ in range(threads)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

        _rate("audit append (one transaction each)", audit_n, lambda: append(audit_n))
        _rate("audit append, 4 threads", audit_n, lambda: append_in_threads(4))
        _rate("audit seal", 2 * audit_n, seal_pending)
        audit_n *= 2
        report = None

        def verify() -> None:
            nonlocal report
            report = verify_chain()

        _rate("audit verify", audit_n, verify)
        assert report is not None
        assert report.intact
        assert report.checked == audit_n
        connection.close()

    if args.postgres:
        import psycopg

        base = args.postgres.rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS cityhealth_bench")


if __name__ == "__main__":
    main()
