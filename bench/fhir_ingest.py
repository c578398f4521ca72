"""FHIR transaction ingest: Bundles of Observations posted to /fhir/R4/, resources per second.

    .venv/bin/python bench/fhir_ingest.py --postgres postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/fhir_ingest.py                 # SQLite file in a temp folder
    .venv/bin/python bench/fhir_ingest.py --smoke         # seconds; what CI runs

Each Bundle is a `transaction` of `--entries` Observations (identifier, category, LOINC code,
subject a registry person, effective time, quantity; `urn:uuid` fullUrls), sent through the
whole HTTP stack in process (Django's test client: authentication by bearer token, format
negotiation, JSON parsing, the transaction, the response Bundle), each in its own database
transaction as a request is. The first Bundle warms up and is not counted. Prints the rate
over the others. A fresh database (`cityhealth_bench_fhir_ingest` on PostgreSQL) is made for
the run and dropped after it. Then the same number of Bundles is sent by `--senders` threads
at once (each with its own connection, as a server's workers), for the rate of the whole.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import drop_postgres, fresh_postgres, machine_line, setup_django

BENCH_DATABASE = "cityhealth_bench_fhir_ingest"
LOINC = (("8302-2", "Body height", "cm"), ("29463-7", "Body weight", "kg"),
         ("8867-4", "Heart rate", "/min"), ("8310-5", "Body temperature", "Cel"))  # fmt: skip


def observation(n: int, person_id: int) -> dict[str, Any]:
    code, display, unit = LOINC[n % len(LOINC)]
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid4()}",
        "resource": {
            "resourceType": "Observation",
            "identifier": [{"system": "http://lab.bv-xanhpon.vn/result", "value": f"r-{n}"}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{person_id}"},
            "effectiveDateTime": f"2026-03-{1 + n % 28:02d}T08:{n % 60:02d}:00+07:00",
            "valueQuantity": {
                "value": round(50 + (n % 500) / 10, 1),
                "unit": unit,
                "system": "http://unitsofmeasure.org",
                "code": unit,
            },
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--entries", type=int, default=1000, help="Observations per Bundle")
    parser.add_argument("--bundles", type=int, default=10, help="Bundles counted")
    parser.add_argument("--senders", type=int, default=2, help="then Bundles sent at once")
    parser.add_argument("--smoke", action="store_true", help="small counts, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.entries, args.bundles = min(args.entries, 200), min(args.bundles, 2)

    with tempfile.TemporaryDirectory() as workdir:
        url = (
            fresh_postgres(args.postgres, BENCH_DATABASE)
            if args.postgres
            else f"sqlite:///{workdir}/{BENCH_DATABASE}.sqlite3"
        )
        try:
            setup_django(url, workdir)
            run(entries=args.entries, bundles=args.bundles, senders=args.senders)
        finally:
            if args.postgres:
                from django.db import connections

                connections.close_all()
                drop_postgres(args.postgres, BENCH_DATABASE)


def run(*, entries: int, bundles: int, senders: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cityhealth.accounts.models import ApiClient
    from cityhealth.accounts.services import issue_api_token
    from cityhealth.people.models import Person
    from cityhealth.records.models import Resource

    call_command("migrate", verbosity=0)
    print(machine_line(connection.vendor))
    system = ApiClient.objects.create(name="bench-his", scopes=["read_records", "write_records"])
    token = issue_api_token(client=system).raw
    people = [
        Person.objects.create(full_name=f"Người Thử {n}", birth_year=1990).pk for n in range(50)
    ]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
    seconds: list[float] = []
    cpu_seconds: list[float] = []  # this process's CPU (the server's own is not in it)
    for number in range(bundles + 1):
        body = json.dumps(
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    observation(number * entries + n, people[n % len(people)])
                    for n in range(entries)
                ],
            }
        )
        started, cpu = time.perf_counter(), time.process_time()
        answer = client.post("/fhir/R4/", body, content_type="application/fhir+json")
        elapsed, used = time.perf_counter() - started, time.process_time() - cpu
        if answer.status_code != 200:
            raise SystemExit(f"transaction refused: {answer.status_code} {answer.content[:500]!r}")
        if number:  # the first one warms up
            seconds.append(elapsed)
            cpu_seconds.append(used)
    stored = Resource.objects.filter(resource_type="Observation").count()
    assert stored == entries * (bundles + 1), stored
    total = sum(seconds)
    print(
        f"transaction of {entries:,} Observations: median {statistics.median(seconds):.3f} s, "
        f"{entries * bundles / total:,.0f} resources/s over {bundles} Bundles "
        f"({entries * bundles:,} resources); application CPU "
        f"{entries * bundles / sum(cpu_seconds):,.0f} resources per CPU second"
    )
    if senders > 1:
        concurrent(entries=entries, bundles=bundles, senders=senders, token=token, people=people)


def concurrent(*, entries: int, bundles: int, senders: int, token: str, people: list[int]) -> None:
    """The same Bundles sent by `senders` threads at once (each its own connection, as a
    server's workers would), for the rate of the whole."""
    import threading

    from django.db import connection
    from django.test import Client

    failures: list[int] = []

    def send(sender: int) -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="localhost")
        try:
            for number in range(bundles // senders):
                first = (10_000 + sender * 1_000 + number) * entries
                body = json.dumps(
                    {
                        "resourceType": "Bundle",
                        "type": "transaction",
                        "entry": [
                            observation(first + n, people[n % len(people)]) for n in range(entries)
                        ],
                    }
                )
                answer = client.post("/fhir/R4/", body, content_type="application/fhir+json")
                if answer.status_code != 200:
                    failures.append(answer.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sent = entries * (bundles // senders) * senders
    if failures:
        raise SystemExit(f"transactions refused: {failures}")
    print(
        f"{senders} senders at once: {sent:,} resources in {elapsed:.2f} s = "
        f"{sent / elapsed:,.0f} resources/s"
    )


if __name__ == "__main__":
    main()
