"""`Patient/{id}/$everything` on a loaded shared record: latency for patients with 200 resources.

    .venv/bin/python bench/fhir_everything.py --postgres postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/fhir_everything.py --postgres URL --background 5000 --keep
    .venv/bin/python bench/fhir_everything.py --smoke                     # seconds; CI

A fresh database (`cityhealth_bench_fhir` on the `--postgres` server, or a SQLite file) gets
`--background` persons with `--per-person` resources each (Observations, Conditions,
Encounters pointing at shared Practitioners, PractitionerRoles, Organizations, Locations), and
`--patients` persons with exactly `--resources` resources each, all through the store's bulk
path (search index included). Then `$everything` of those patients is asked `--queries` times
over HTTP (Django's test client: routing, authorization, consent SQL, the registry's audited
Patient read, JSON), as a hospital system's token, each request its own transaction. Prints
p50/p95/p99/max in ms. `--keep` leaves the database for `bench/fhir_export.py --reuse`.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import (
    drop_postgres,
    fresh_postgres,
    machine_line,
    server_url,
    setup_django,
)

DATABASE = "cityhealth_bench_fhir"
BATCH = 5000
CODES = ("8867-4", "8310-5", "29463-7", "8302-2", "85354-9", "2339-0", "718-7", "4548-4")
HOSPITAL = "BV-BENCH"


def shared_resources(count: int) -> list[dict[str, Any]]:
    """Organizations, Locations, Practitioners and their roles: in no compartment."""
    made: list[dict[str, Any]] = []
    for n in range(count):
        made.append({"resourceType": "Organization", "id": f"org-{n}", "name": f"Khoa {n}"})
        made.append(
            {
                "resourceType": "Location",
                "id": f"loc-{n}",
                "name": f"Phòng {n}",
                "managingOrganization": {"reference": f"Organization/org-{n}"},
            }
        )
        made.append(
            {"resourceType": "Practitioner", "id": f"dr-{n}", "name": [{"family": f"Bác sĩ {n}"}]}
        )
        made.append(
            {
                "resourceType": "PractitionerRole",
                "id": f"role-{n}",
                "practitioner": {"reference": f"Practitioner/dr-{n}"},
                "organization": {"reference": f"Organization/org-{n}"},
                "location": [{"reference": f"Location/loc-{n}"}],
            }
        )
    return made


def compartment(
    person_id: int, count: int, rng: random.Random, shared: int
) -> Iterator[dict[str, Any]]:
    """`count` resources of one person: an Encounter every tenth, a Condition every
    twentieth, Observations otherwise, each pointing at the encounter and a role (of the
    few departments this person is seen in)."""
    patient = {"reference": f"Patient/{person_id}"}
    encounter = ""
    departments = rng.sample(range(shared), min(4, shared))
    for n in range(count):
        n_shared = rng.choice(departments)
        day = f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"
        if n % 10 == 0:
            encounter = uuid.uuid4().hex
            yield {
                "resourceType": "Encounter",
                "id": encounter,
                "status": "finished",
                "class": {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                    "code": "AMB",
                },
                "subject": patient,
                "participant": [{"individual": {"reference": f"PractitionerRole/role-{n_shared}"}}],
                "serviceProvider": {"reference": f"Organization/org-{n_shared}"},
                "location": [{"location": {"reference": f"Location/loc-{n_shared}"}}],
                "period": {"start": f"{day}T08:00:00+07:00"},
            }
        elif n % 20 == 5:
            yield {
                "resourceType": "Condition",
                "id": uuid.uuid4().hex,
                "subject": patient,
                "encounter": {"reference": f"Encounter/{encounter}"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]},
                "recordedDate": day,
            }
        else:
            code = CODES[n % len(CODES)]
            yield {
                "resourceType": "Observation",
                "id": uuid.uuid4().hex,
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": patient,
                "encounter": {"reference": f"Encounter/{encounter}"},
                "performer": [{"reference": f"PractitionerRole/role-{n_shared}"}],
                "effectiveDateTime": f"{day}T09:00:00+07:00",
                "valueQuantity": {"value": round(rng.uniform(1, 200), 1), "unit": "1"},
            }


def load_records(
    *, background: int, per_person: int, patients: int, resources: int, seed: int
) -> tuple[list[int], float]:
    """Load everything; (the ids of the patients with exactly `resources`, seconds)."""
    from django.db import transaction

    from cityhealth.facilities.enums import FacilityKind
    from cityhealth.facilities.models import Facility
    from cityhealth.people.models import Person
    from cityhealth.records.bulk import NewResource, write_new_resources
    from cityhealth.records.patients import project_patients

    rng = random.Random(seed)
    started = time.perf_counter()
    shared = max(10, background // 50)
    Facility.objects.get_or_create(
        code=HOSPITAL, defaults={"name": "Bệnh viện Bench", "kind": FacilityKind.GENERAL_HOSPITAL}
    )
    with transaction.atomic():
        write_new_resources(
            resources=[NewResource(body=b) for b in shared_resources(shared)],
            source="bench",
            trusted=True,
        )
    people = Person.objects.bulk_create(
        [
            Person(full_name=f"Người Thử {n}", birth_year=1950 + n % 60)
            for n in range(background + patients)
        ],
        batch_size=5000,
    )
    batch: list[Any] = []
    for index, person in enumerate(people):
        count = resources if index >= background else per_person
        batch.extend(
            NewResource(body=body, person_id=person.pk)
            for body in compartment(person.pk, count, rng, shared)
        )
        if len(batch) >= BATCH:
            with transaction.atomic():
                write_new_resources(resources=batch, source="bench", trusted=True)
            batch = []
    if batch:
        with transaction.atomic():
            write_new_resources(resources=batch, source="bench", trusted=True)
    with transaction.atomic():  # the measured persons as the registry's hook keeps them
        project_patients(person_ids=[p.pk for p in people[background:]])
    analyze()
    return [p.pk for p in people[background:]], time.perf_counter() - started


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def bench_client() -> Any:
    from django.test import Client

    from cityhealth.accounts.models import ApiClient
    from cityhealth.accounts.services import issue_api_token
    from cityhealth.facilities.models import Facility

    system, _ = ApiClient.objects.get_or_create(
        name="bench-his",
        defaults={
            "scopes": ["read_records", "view_persons"],
            "facility": Facility.objects.get(code=HOSPITAL),
        },
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def measure(patients: list[int], queries: int, expected: int) -> tuple[list[float], list[float]]:
    """(wall-clock seconds, CPU seconds of this process) per request, after a warm-up."""
    client = bench_client()
    rng = random.Random(7)
    samples: list[float] = []
    cpu: list[float] = []
    for n in range(queries + 20):
        person_id = rng.choice(patients)
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/fhir/R4/Patient/{person_id}/$everything")
        elapsed = time.perf_counter() - started
        used = time.process_time() - started_cpu
        assert response.status_code == 200, response.content[:300]
        if n == 0:
            import json

            bundle = json.loads(response.content)
            matched = sum(1 for e in bundle["entry"] if e["search"]["mode"] == "match")
            assert matched == expected + 1, (matched, expected)
            assert bundle["entry"][0]["resource"]["meta"]["source"] == "registry"
            print(
                f"one answer: {len(bundle['entry'])} entries ({matched} match incl. the "
                f"Patient), {len(response.content):,} bytes"
            )
        if n >= 20:  # after a warm-up
            samples.append(elapsed)
            cpu.append(used)
    return samples, cpu


def measured_database(*, postgres: str | None, reuse: bool, workdir: str) -> str:
    """The URL of the database a run measures: `DATABASE` on that server as it is (`reuse`,
    left by an earlier `--keep`), a fresh `DATABASE` there, or without a server a SQLite file
    in `workdir`. Shared by this benchmark and `bench/fhir_export.py`."""
    if postgres and reuse:
        return f"{server_url(postgres)}/{DATABASE}"
    if postgres:
        return fresh_postgres(postgres, DATABASE)
    return f"sqlite:///{workdir}/fhir.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL URL (its server gets a fresh database)")
    parser.add_argument("--background", type=int, default=5000, help="other persons")
    parser.add_argument("--per-person", type=int, default=40)
    parser.add_argument("--patients", type=int, default=20, help="persons measured")
    parser.add_argument(
        "--resources", type=int, default=200, help="resources of each measured person"
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="leave the database")
    parser.add_argument("--reuse", action="store_true", help=f"measure {DATABASE} as it is")
    parser.add_argument("--smoke", action="store_true", help="tiny, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.background, args.per_person, args.patients, args.queries = 50, 10, 3, 20

    with tempfile.TemporaryDirectory() as workdir:
        url = measured_database(postgres=args.postgres, reuse=args.reuse, workdir=workdir)
        setup_django(url, workdir)
        from django.core.management import call_command
        from django.db import connection

        try:
            call_command("migrate", verbosity=0)
            print(machine_line(connection.vendor))
            from cityhealth.records.models import Resource

            if args.reuse:  # the measured persons are the projected ones
                patients = list(
                    Resource.objects.filter(resource_type="Patient").values_list(
                        "person_id", flat=True
                    )
                )
                print(f"reusing {Resource.objects.count():,} resources")
            else:
                patients, seconds = load_records(
                    background=args.background,
                    per_person=args.per_person,
                    patients=args.patients,
                    resources=args.resources,
                    seed=1,
                )
                total = Resource.objects.count()
                print(f"loaded {total:,} resources in {seconds:.1f} s ({total / seconds:,.0f}/s)")
            samples, cpu = measure(patients, args.queries, args.resources)
            ms = np.array(samples) * 1000
            p50, p95, p99 = np.percentile(ms, [50, 95, 99])
            print(
                f"$everything, {args.resources} resources: p50 {p50:.1f}  p95 {p95:.1f}  "
                f"p99 {p99:.1f}  max {ms.max():.1f} ms  ({len(samples)} requests)"
            )
            print(
                f"  of which CPU of this process (Django, the view, psycopg): median "
                f"{np.median(cpu) * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f} "
                f"on {os.cpu_count()} cores"
            )
        finally:
            connection.close()
            if args.postgres and not args.keep and not args.reuse:
                drop_postgres(args.postgres, DATABASE)


if __name__ == "__main__":
    main()
