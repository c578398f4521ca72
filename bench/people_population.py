"""Synthetic population: how fast `cityhealth synth population` generates and loads persons.

    .venv/bin/python bench/people_population.py                        # SQLite file, 200,000
    .venv/bin/python bench/people_population.py --postgres URL --persons 8500000
    .venv/bin/python bench/people_population.py --smoke                # seconds; what CI runs

`--postgres URL` makes a fresh `cityhealth_bench_people` database (or `--database NAME`) on that
server, dropped after the run unless `--keep`, which leaves it for `bench/people_lookup.py`.
`--indexes keep|rebuild` forces one way of handling the indexes during the load (default: the
command's choice); `--generate-only` measures the generator and the COPY encoding alone.

Prints elapsed time per phase, persons/s, rows/s and the peak resident memory of this process
(`ru_maxrss`); on PostgreSQL the COPY itself runs in the server process, not counted there.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BENCH_DATABASE = "cityhealth_bench_people"


def server_url(url: str) -> str:
    return url.rsplit("/", 1)[0]


def fresh_postgres(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server_url(url)}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url(url)}/{name}"


def drop_postgres(url: str, name: str) -> None:
    import psycopg

    # FORCE: the application's connection pool may still hold idle sessions on it.
    with psycopg.connect(f"{server_url(url)}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def existing_population(url: str) -> int:
    """Persons already in the database at `url` (0 when it has no people table or no server)."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT to_regclass('people_persons')").fetchone()
            if not row or row[0] is None:
                return 0
            row = conn.execute("SELECT count(*) FROM people_persons").fetchone()
            return int(row[0]) if row else 0
    except psycopg.OperationalError:
        return 0


def bench_database(
    *, postgres: str | None, persons: int | None, fresh_name: str, workdir: str
) -> tuple[str, bool, str | None]:
    """(url, build, fresh database name) for a benchmark that reads a population.

    `postgres` naming a database that already holds persons, with no `persons` asked for: that
    database, as it is. Otherwise a fresh PostgreSQL database `fresh_name` on that server (to
    drop afterwards), or without `postgres` a SQLite file in `workdir`; both to be built."""
    if postgres:
        if not persons and existing_population(postgres):
            return postgres, False, None
        return fresh_postgres(postgres, fresh_name), True, fresh_name
    return f"sqlite:///{workdir}/{fresh_name}.sqlite3", True, None


def setup_django(database_url: str, workdir: str) -> None:
    os.environ["CITYHEALTH_DATABASE_URL"] = database_url
    os.environ["CITYHEALTH_VAR_DIR"] = workdir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
    import django

    django.setup()


def migrate_and_load_reference() -> float:
    from django.core.management import call_command
    from django.db import transaction

    from cityhealth.facilities.services import load_facilities
    from cityhealth.geo.services import load_administrative_units

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        load_administrative_units()
        load_facilities()
    return time.perf_counter() - started


def load_population(persons: int, seed: int, indexes: str, batch_size: int | None) -> object:
    from django.db import transaction

    from cityhealth.synth.population.loading import IndexMode
    from cityhealth.synth.population.service import generate_population

    with transaction.atomic():
        return generate_population(
            persons=persons,
            seed=seed,
            indexes=IndexMode(indexes),
            batch_size=batch_size,
            progress=sys.stderr.isatty(),
            log=lambda line: print(line, file=sys.stderr),
        )


def vacuum_people() -> float:
    """VACUUM ANALYZE the loaded tables (PostgreSQL), as autovacuum would in time: sets the
    visibility map (index-only scans) and hint bits before lookups are measured."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    from cityhealth.synth.population.loading import TABLES

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    return time.perf_counter() - started


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def machine_line(vendor: str) -> str:
    return (
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, database {vendor}"
    )


def _generate_only(persons: int, seed: int) -> None:
    from cityhealth.synth.population.generator import PopulationGenerator
    from cityhealth.synth.population.loading import encode_copy
    from cityhealth.synth.population.params import load_parameters
    from cityhealth.synth.population.tables import load_tables

    tables = load_tables(load_parameters())
    started = time.perf_counter()
    rows = size = 0
    for chunk in PopulationGenerator(tables, persons=persons, seed=seed).chunks():
        for batch in chunk.batches:
            rows += batch.count
            size += len(encode_copy(batch))
    elapsed = time.perf_counter() - started
    print(
        f"generate + encode only: {persons:,} persons, {rows:,} rows, {size / 2**20:,.0f} MiB "
        f"of COPY text in {elapsed:.1f} s = {persons / elapsed:,.0f} persons/s"
    )


def _database_size(vendor: str, workdir: str) -> str:
    from django.db import connection

    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            return str(cursor.fetchone()[0])
    path = Path(workdir, "bench.sqlite3")
    return f"{path.stat().st_size / 2**20:,.0f} MB" if path.exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--smoke", action="store_true", help="3,000 persons, for CI")
    parser.add_argument("--indexes", choices=["auto", "keep", "rebuild"], default="auto")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database")
    parser.add_argument(
        "--database",
        default=BENCH_DATABASE,
        help=f"PostgreSQL database to (re)create: {BENCH_DATABASE}",
    )
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    persons = 3_000 if args.smoke else args.persons

    with tempfile.TemporaryDirectory() as workdir:
        if args.postgres and not args.generate_only:
            url = fresh_postgres(args.postgres, args.database)
        else:
            url = f"sqlite:///{workdir}/bench.sqlite3"
        setup_django(url, workdir)
        from django.db import connection

        print(machine_line(connection.vendor))
        reference = migrate_and_load_reference()
        print(f"migrate + reference data: {reference:.1f} s")
        if args.generate_only:
            _generate_only(persons, args.seed)
            print(f"peak memory of this process: {peak_memory_mb():,.0f} MB")
            return
        started = time.perf_counter()
        report = load_population(persons, args.seed, args.indexes, args.batch_size)
        elapsed = time.perf_counter() - started
        lines = report.lines()  # type: ignore[attr-defined]
        counts: dict[str, int] = report.counts  # type: ignore[attr-defined]
        rows = sum(counts.values())
        for line in lines:
            print(line)
        print(
            f"total {elapsed:.1f} s: {persons / elapsed:,.0f} persons/s, "
            f"{rows / elapsed:,.0f} rows/s ({rows:,} rows in 4 tables)"
        )
        print(f"peak memory of this process: {peak_memory_mb():,.0f} MB")
        print(f"database size: {_database_size(connection.vendor, workdir)}")
        if args.keep and args.postgres:
            print(f"VACUUM (ANALYZE), for the lookup benchmark: {vacuum_people():.1f} s")
        connection.close()
    if args.postgres and not args.generate_only:
        if args.keep:
            print(f"kept: {server_url(args.postgres)}/{args.database}")
        else:
            drop_postgres(args.postgres, args.database)


if __name__ == "__main__":
    main()
