"""FHIR search on a loaded shared record: query plans and latencies of the benchmark searches.

    .venv/bin/python bench/fhir_search.py --postgres postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/fhir_search.py --postgres URL --background 5000 --per-person 40
    .venv/bin/python bench/fhir_search.py --smoke                      # seconds; CI

A fresh database (`cityhealth_bench_search` on the `--postgres` server, or a SQLite file) gets
`--background` persons with `--per-person` resources each (Observations, Conditions and
Encounters, each with a lab identifier; the generator of `bench/fhir_everything.py`), through
the store's bulk path with validation and the search index. Then it prints the load rate, the
rate of the one-at-a-time write path (`services.create_resource`, index included), the plans
(EXPLAIN ANALYZE) of the identifier search and of the patient + code + date search, and the
p50/p99 of each search run `--queries` times in-process and over HTTP.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fhir_everything import CODES, compartment, shared_resources
from bench.people_population import drop_postgres, fresh_postgres, machine_line, setup_django

DATABASE = "cityhealth_bench_search"
BATCH = 5000
LAB = "urn:oid:1.2.704.bench.lab"


def load(*, background: int, per_person: int, seed: int) -> tuple[list[int], float]:
    from django.db import connection, transaction

    from cityhealth.people.models import Person
    from cityhealth.records.bulk import NewResource, write_new_resources

    rng = random.Random(seed)
    started = time.perf_counter()
    shared = max(10, background // 50)
    with transaction.atomic():
        write_new_resources(
            resources=[NewResource(body=b) for b in shared_resources(shared)], source="bench"
        )
    people = Person.objects.bulk_create(
        [Person(full_name=f"Người Thử {n}", birth_year=1950 + n % 60) for n in range(background)],
        batch_size=5000,
    )
    batch: list[Any] = []
    for person in people:
        for body in compartment(person.pk, per_person, rng, shared):
            body["identifier"] = [{"system": LAB, "value": body["id"]}]
            batch.append(NewResource(body=body, person_id=person.pk))
        if len(batch) >= BATCH:
            with transaction.atomic():
                write_new_resources(resources=batch, source="bench")
            batch = []
    if batch:
        with transaction.atomic():
            write_new_resources(resources=batch, source="bench")
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return [p.pk for p in people], seconds


def single_writes(person_ids: list[int], count: int) -> float:
    """Resources per second through the one-at-a-time write path, one transaction each."""
    from django.db import transaction

    from cityhealth.records import services

    started = time.perf_counter()
    for n in range(count):
        with transaction.atomic():
            services.create_resource(
                body={
                    "resourceType": "Observation",
                    "status": "final",
                    "identifier": [{"system": LAB, "value": f"single-{n}"}],
                    "code": {"coding": [{"system": "http://loinc.org", "code": CODES[n % 8]}]},
                    "subject": {"reference": f"Patient/{person_ids[n % len(person_ids)]}"},
                    "effectiveDateTime": "2026-05-01T09:00:00+07:00",
                    "valueQuantity": {"value": 70.5, "unit": "kg"},
                },
                source="bench",
            )
    return count / (time.perf_counter() - started)


def sample_queries(person_ids: list[int], rng: random.Random) -> dict[str, list[str]]:
    from cityhealth.records.models import Resource

    lab_ids = list(
        Resource.objects.filter(resource_type="Observation")
        .order_by("?")
        .values_list("logical_id", flat=True)[:200]
    )
    people = rng.sample(person_ids, min(200, len(person_ids)))
    return {
        "identifier": [f"identifier={LAB}|{lab}" for lab in lab_ids],
        "patient+code+date": [
            f"patient=Patient/{p}&code=http://loinc.org|{CODES[i % 8]}&date=ge2026-03-01"
            for i, p in enumerate(people)
        ],
    }


def explain(query: str) -> str:
    from urllib.parse import parse_qsl

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from cityhealth.records import search

    params = parse_qsl(query)
    reset_queries()  # the log is a bounded deque: captured indexes need room
    with CaptureQueriesContext(connection) as captured:
        search.search(resource_type="Observation", params=params)
    sql = captured.captured_queries[0]["sql"]
    if connection.vendor != "postgresql":
        return sql
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")  # the logged SQL, parameters inlined
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(queries: list[str], *, http: bool) -> np.ndarray:
    from urllib.parse import parse_qsl

    from django.db import transaction
    from django.test import Client

    from cityhealth.records import search

    client = Client()
    if http:
        from cityhealth.accounts.services import create_staff_user, grant_role
        from cityhealth.core.roles import Role

        user = create_staff_user(username=f"bench{time.time_ns()}", password="bench-pass-9a!")  # noqa: S106
        grant_role(user=user, role=Role.CLINICIAN)
        client.force_login(user)
    samples = []
    for query in queries:
        started = time.perf_counter()
        if http:
            answer = client.get(f"/fhir/R4/Observation?{query}")
            assert answer.status_code == 200, answer.content[:300]
        else:
            with transaction.atomic():
                search.search(resource_type="Observation", params=parse_qsl(query))
        samples.append(time.perf_counter() - started)
    return np.array(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL URL (its server gets a fresh database)")
    parser.add_argument("--background", type=int, default=5000, help="persons")
    parser.add_argument("--per-person", type=int, default=40)
    parser.add_argument("--singles", type=int, default=2000, help="one-at-a-time writes")
    parser.add_argument("--keep", action="store_true", help="leave the database")
    parser.add_argument("--smoke", action="store_true", help="tiny, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.background, args.per_person, args.singles = 50, 10, 20

    with tempfile.TemporaryDirectory() as workdir:
        if args.postgres:
            url = fresh_postgres(args.postgres, DATABASE)
        else:
            url = f"sqlite:///{workdir}/search.sqlite3"
        setup_django(url, workdir)
        from django.core.management import call_command
        from django.db import connection

        try:
            call_command("migrate", verbosity=0)
            print(machine_line(connection.vendor))
            person_ids, seconds = load(
                background=args.background, per_person=args.per_person, seed=1
            )
            from cityhealth.records.models import Resource

            total = Resource.objects.count()
            print(f"bulk load: {total:,} resources in {seconds:.1f} s ({total / seconds:,.0f}/s)")
            rate = single_writes(person_ids, args.singles)
            print(f"one-at-a-time writes: {rate:,.0f} resources/s ({args.singles} writes)")
            queries = sample_queries(person_ids, random.Random(2))
            for name, sample in queries.items():
                print(f"\n--- {name}: {sample[0]}\n{explain(sample[0])}")
                for http in (False, True):
                    ms = measure(sample, http=http)
                    p50, p99 = np.percentile(ms, [50, 99])
                    where = "HTTP" if http else "in-process"
                    print(f"{name} ({where}): p50 {p50:.1f}  p99 {p99:.1f}  max {ms.max():.1f} ms")
        finally:
            connection.close()
            if args.postgres and not args.keep:
                drop_postgres(args.postgres, DATABASE)


if __name__ == "__main__":
    main()
