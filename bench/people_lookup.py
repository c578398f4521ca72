"""Registry lookups on a synthetic population: citizen ID, and name + date of birth.

    .venv/bin/python bench/people_lookup.py --postgres URL/cityhealth_bench_people   # reuse
    .venv/bin/python bench/people_lookup.py --postgres URL --persons 500000         # build
    .venv/bin/python bench/people_lookup.py --smoke                                 # CI

With `--postgres` naming a database that already holds a population (as left by
`bench/people_population.py --keep`) and no `--persons`, it is used as it is. Otherwise a fresh
`cityhealth_bench_lookup` database (or a SQLite file) is made and loaded with `--persons`
persons (200,000 by default), and dropped after the run.

Each query is a call of the registry's own selectors (`lookup_by_citizen_id`, which fetches
the person with identifiers, cards and relatives; `search_persons`), as a `bench-clerk`
receptionist, each writing its audit entry and committing it as a request would. The
identifier query alone on a bare cursor shows the database's share. Prints
p50/p95/p99/max in milliseconds over `--queries` samples taken at random, after a warm-up.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import (
    bench_database,
    drop_postgres,
    load_population,
    machine_line,
    migrate_and_load_reference,
    setup_django,
    vacuum_people,
)

LOOKUP_DATABASE = "cityhealth_bench_lookup"
LIMIT = 20
PREFIX_WINDOW = 500


def _percentiles(label: str, samples: list[float]) -> None:
    ms = np.array(samples) * 1000
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    print(
        f"{label:<46} p50 {p50:6.2f}  p95 {p95:6.2f}  p99 {p99:6.2f}  max {ms.max():7.2f} ms"
        f"  ({len(samples):,} queries)"
    )


def _timed(run: Callable[[Any], object], inputs: Sequence[Any], warm: int) -> list[float]:
    for item in inputs[:warm]:
        run(item)
    out = []
    for item in inputs:
        started = time.perf_counter()
        run(item)
        out.append(time.perf_counter() - started)
    return out


def _measure(queries: int, seed: int) -> None:
    from django.db import connection
    from django.db.models import Max, Min

    from cityhealth.people.enums import IdentifierKind, IdentifierStatus
    from cityhealth.people.models import Person, PersonIdentifier

    bounds = Person.objects.aggregate(lo=Min("id"), hi=Max("id"))
    rng = np.random.default_rng(seed)
    ids = rng.integers(bounds["lo"], bounds["hi"] + 1, size=queries * 2).tolist()
    sample = list(
        Person.objects.filter(id__in=ids).values(
            "id", "search_text", "birth_year", "birth_date", "birth_date_precision"
        )
    )[:queries]
    numbers = list(
        PersonIdentifier.objects.filter(
            person_id__in=[p["id"] for p in sample],
            kind=IdentifierKind.CITIZEN_ID,
            status=IdentifierStatus.ACTIVE,
        ).values_list("value", flat=True)
    )
    # Valid numbers (same province, century, sex and year) with another serial; held ones out.
    candidates = [f"{v[:6]}{(int(v[6:]) * 7919 + 13) % 10**6:06d}" for v in numbers[: queries // 5]]
    held = set(
        PersonIdentifier.objects.filter(
            kind=IdentifierKind.CITIZEN_ID, value__in=candidates
        ).values_list("value", flat=True)
    )
    misses = [v for v in candidates if v not in held][: max(1, queries // 10)]
    print(f"samples: {len(sample):,} persons, {len(numbers):,} ID numbers")

    from cityhealth.accounts.models import User
    from cityhealth.accounts.services import create_staff_user, grant_role
    from cityhealth.core.roles import Role
    from cityhealth.people.selectors import lookup_by_citizen_id, search_persons, with_details

    # The registry's own selectors, each writing its audit entry, as a desk's request does.
    clerk = User.objects.filter(username="bench-clerk").first()
    if clerk is None:
        clerk = create_staff_user(username="bench-clerk", password=secrets.token_urlsafe(24))
        grant_role(user=clerk, role=Role.RECEPTIONIST)

    def lookup(number: str) -> object:
        return lookup_by_citizen_id(principal=clerk, citizen_id=number, reason="bench")

    def lookup_whole_record(number: str) -> object:
        # What GET /api/people?citizen_id= shows: identifiers, cards, guardians, dependants.
        found = lookup(number)
        assert isinstance(found, Person)
        return with_details(Person.objects.filter(pk=found.pk)).get()

    sentinel = "<number>"
    holders_sql, holders_params = (
        PersonIdentifier.objects.filter(kind=IdentifierKind.CITIZEN_ID, issuer="", value=sentinel)
        .exclude(status=IdentifierStatus.RETIRED)
        .select_related("person")
        .order_by("id")
        .query.sql_with_params()
    )

    def holders_raw(number: str) -> object:
        # The identifier query alone on a bare cursor: the database's share of the lookup.
        params = [number if p == sentinel else p for p in holders_params]
        with connection.cursor() as cursor:
            cursor.execute(holders_sql, params)
            return cursor.fetchall()

    def by_name_and_year(p: dict[str, Any]) -> object:
        return search_persons(principal=clerk, q=p["search_text"], birth_year=p["birth_year"])

    def by_partial_name_and_date(p: dict[str, Any]) -> object:
        # What a clerk types: the start of the name and the date of birth.
        key: str = p["search_text"]
        return search_persons(
            principal=clerk, q=key[: max(3, len(key) - 2)], birth_date=p["birth_date"]
        )

    warm = min(100, len(sample))
    _percentiles("lookup_by_citizen_id, held (audited)", _timed(lookup, numbers, warm))
    _percentiles("lookup_by_citizen_id, nobody holds it", _timed(lookup, misses, warm))
    _percentiles(
        "  + the whole record (the API's answer)", _timed(lookup_whole_record, numbers, warm)
    )
    _percentiles("identifier query alone, bare cursor", _timed(holders_raw, numbers, warm))
    dated = [p for p in sample if p["birth_date_precision"] == "day"]
    _percentiles("search_persons: full name + birth year", _timed(by_name_and_year, sample, warm))
    _percentiles(
        "search_persons: name prefix + date of birth",
        _timed(by_partial_name_and_date, dated, warm),
    )
    if connection.vendor == "postgresql" and sample:
        p = sample[0]
        plans = {
            "citizen ID": PersonIdentifier.objects.filter(
                kind=IdentifierKind.CITIZEN_ID, issuer="", value=numbers[0]
            ).select_related("person"),
            "name prefix + year": Person.objects.filter(
                search_text__startswith=p["search_text"][:-2], birth_year=p["birth_year"]
            ),
        }
        for label, queryset in plans.items():
            first = queryset.explain().splitlines()
            print(f"plan, {label}: {' / '.join(line.strip() for line in first[:3])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL URL: a populated database, or a server")
    parser.add_argument("--persons", type=int, help="build a fresh database with this many")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="3,000 persons, 200 queries")
    args = parser.parse_args()
    queries = 200 if args.smoke else args.queries
    persons = 3_000 if args.smoke else args.persons

    with tempfile.TemporaryDirectory() as workdir:
        url, build, fresh = bench_database(
            postgres=args.postgres, persons=persons, fresh_name=LOOKUP_DATABASE, workdir=workdir
        )
        setup_django(url, workdir)
        from django.db import connection

        from cityhealth.people.models import Person

        print(machine_line(connection.vendor))
        if build:
            started = time.perf_counter()
            migrate_and_load_reference()
            load_population(persons or 200_000, args.seed, "auto", None)
            vacuum_people()
            print(f"built (and vacuumed): {time.perf_counter() - started:.1f} s")
        print(f"persons in the database: {Person.objects.count():,}")
        _measure(queries, args.seed)
        connection.close()
    if fresh and args.postgres:
        drop_postgres(args.postgres, fresh)


if __name__ == "__main__":
    main()
