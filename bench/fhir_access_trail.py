"""What the access trail costs a FHIR read: the row written per request, on PostgreSQL.

    .venv/bin/python bench/fhir_access_trail.py --postgres postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/fhir_access_trail.py --smoke                  # SQLite, seconds; CI

A fresh database (`cityhealth_bench_trail`) gets one hospital client, one person and one
Observation. Then, in rounds that alternate so that load on the machine hits each alike:
`record_access` alone (the one INSERT, with the asynchronous commit and with a durable one),
`SELECT 1` (the round trip the INSERT cannot beat), and `GET Observation/{id}` over HTTP
(Django's test client: authentication, scopes, consent, the row) with the trail middleware and
without it. Prints medians in µs and the load average before and after.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import drop_postgres, fresh_postgres, machine_line, setup_django

DATABASE = "cityhealth_bench_trail"


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="server URL; a fresh database is made on it")
    parser.add_argument("--smoke", action="store_true", help="SQLite, a few iterations")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=1000)
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.per_round = 2, 50
    workdir = tempfile.mkdtemp(prefix="cityhealth-trail-")
    url = (
        fresh_postgres(args.postgres, DATABASE)
        if args.postgres and not args.smoke
        else f"sqlite:///{workdir}/bench.sqlite3"
    )
    setup_django(url, workdir)
    try:
        run(rounds=args.rounds, per_round=args.per_round)
    finally:
        from django.db import connections

        connections.close_all()
        if args.postgres and not args.smoke:
            drop_postgres(args.postgres, DATABASE)


def run(*, rounds: int, per_round: int) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import override_settings

    from cityhealth.accounts.services import create_api_client, issue_api_token
    from cityhealth.core import clock
    from cityhealth.facilities.models import Facility
    from cityhealth.people.models import Person
    from cityhealth.records.services import create_resource
    from cityhealth.records.trail import AccessRow, record_access

    call_command("migrate", verbosity=0)
    print(machine_line(connection.vendor))
    with transaction.atomic():
        hospital = Facility.objects.create(code="BV-BENCH", name="b", kind="general_hospital")
        person = Person.objects.create(full_name="Bench")
        made = create_api_client(name="bench", scopes=["system/*.rs"], facility=hospital)
        token = issue_api_token(client=made.client, scopes=["system/*.rs"]).raw
        observation = create_resource(
            body={
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": f"Patient/{person.pk}"},
            },
            source="bench",
        )
    row = AccessRow(
        occurred_at=clock.now(), actor="client:1", actor_label="bench", organization="BV-BENCH",
        interaction="read", resource_type="Observation", logical_id=observation.logical_id,
        version_id=None, query="", person_id=person.pk, purpose="TREAT", break_glass=False,
        reason="", source_ip="127.0.0.1", status=200,
    )  # fmt: skip
    path = f"/fhir/R4/Observation/{observation.logical_id}"
    without_trail = [m for m in settings.MIDDLEWARE if not m.endswith("AccessTrailMiddleware")]

    def insert(asynchronous: bool) -> Callable[[], object]:
        def once() -> object:
            with override_settings(CITYHEALTH_ACCESS_TRAIL_ASYNC_COMMIT=asynchronous):
                record_access(row)
            return None

        return once

    def select_one() -> object:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None

    def read(trail: bool) -> Callable[[], object]:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

        def once() -> object:
            if trail:
                answer = client.get(path)
            else:
                with override_settings(MIDDLEWARE=without_trail):
                    answer = client.get(path)
            assert answer.status_code == 200
            return None

        return once

    cases = {
        "record_access, asynchronous commit": insert(True),
        "record_access, durable commit": insert(False),
        "SELECT 1 (round trip)": select_one,
        "GET Observation/{id} with the trail": read(True),
        "GET Observation/{id} without the trail": read(False),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    print(f"load average before: {_load()}")
    for _ in range(rounds):
        for name, case in cases.items():
            started = time.perf_counter()
            for _ in range(per_round):
                case()
            timings[name].append((time.perf_counter() - started) / per_round * 1e6)
    print(f"load average after: {_load()}")
    for name, values in timings.items():
        print(f"{name:42s} median {statistics.median(values):7.0f} µs  min {min(values):7.0f} µs")


if __name__ == "__main__":
    main()
