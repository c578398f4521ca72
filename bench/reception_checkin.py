"""Check-in under load: `POST /api/reception/check-ins` against the platform's own server.

    .venv/bin/python bench/people_population.py --postgres URL --persons 8500000 --keep
    .venv/bin/python bench/reception_checkin.py --postgres postgres://postgres@127.0.0.1:5432/cityhealth_bench_people
    .venv/bin/python bench/reception_checkin.py --smoke          # seconds, a fresh SQLite file; CI

The server (`python -m cityhealth.serve`, uvicorn, `--workers` processes) checks residents in
as a city-wide hospital system would (an OAuth2 client with the `check_in` scope): each
request names a different resident by the 12-digit citizen ID, at one of the city's general
hospitals, to internal medicine (adults) or paediatrics (children). Every check-in looks the
person up, checks the BHYT card through the gateway's simulator (in-process, no added
latency: the settings' `simulator`), opens the visit, takes a ticket number and places it in
a room's queue, all as in production. Load generator: `wrk`, one thread, keep-alive
connections, on the same 2 cores. Prints check-ins/s, p50/p95/p99/max and the CPU of the
server and PostgreSQL per check-in.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.emergency_avl import cpu_seconds, free_port, start_server
from bench.fhir_http import fetch_token, postgres_cpu_seconds, run_wrk_script
from bench.people_population import machine_line, migrate_and_load_reference, setup_django

FLOOR_RATE, FLOOR_P99_MS = 200.0, 150.0
_WRK_SCRIPT = """
local bodies = {%(bodies)s}
local token = "%(token)s"
local n = #bodies
local counter = 0
local statuses = {}
function request()
  counter = counter + 1
  if counter > n then counter = 1 end
  return wrk.format("POST", "/api/reception/check-ins", {
    ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    bodies[counter])
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f %%.3f\\n",
    summary.requests, errors.connect + errors.read + errors.write + errors.timeout
    + errors.status, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def make_client() -> tuple[str, str]:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "accounts", "create-client", "--name", f"bench-checkin-{random.randrange(10**9)}",
        "--scope", "check_in", stdout=out,
    )  # fmt: skip
    fields = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", out.getvalue(), re.M))
    return fields["client_id"], fields["client_secret"]


def residents(count: int, seed: int) -> list[tuple[str, bool]]:
    """(citizen ID, a child?) of `count` residents drawn at random from the registry; a
    child as reception counts one (under 16 today), so that it is sent to paediatrics."""
    from django.db import connection

    from cityhealth.core import clock
    from cityhealth.people.models import Person
    from cityhealth.reception.clinics import CHILD_AGE, age_on

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM people_persons")
        top = int(cursor.fetchone()[0] or 0)
        rng = random.Random(seed)
        wanted = sorted({rng.randint(1, top) for _ in range(count * 2)})
        test = (
            "= ANY(%s)"
            if connection.vendor == "postgresql"
            else (f"IN ({','.join(['%s'] * len(wanted))})")
        )
        cursor.execute(
            "SELECT i.value, p.id FROM people_identifiers i "  # noqa: S608 - placeholders only
            "JOIN people_persons p ON p.id = i.person_id "
            "WHERE i.kind = 'citizen_id' AND i.status = 'active' AND NOT p.deceased "
            f"AND p.id {test}",
            [wanted] if connection.vendor == "postgresql" else wanted,
        )
        pairs = [(str(value), int(pk)) for value, pk in cursor.fetchall()]
    rng.shuffle(pairs)
    pairs = pairs[:count]
    persons = Person.objects.in_bulk([pk for _, pk in pairs])
    today = clock.today()
    ages = [(number, age_on(persons[pk], today)) for number, pk in pairs]
    return [(number, age is not None and age < CHILD_AGE) for number, age in ages]


def bodies(people: list[tuple[str, bool]]) -> list[str]:
    """Check-ins spread over the hospitals with internal medicine and paediatrics clinics
    and a BHYT facility code: every card is checked through the gateway (a hospital without
    the code checks none, a cheaper check-in that is not the case measured)."""
    from cityhealth.facilities.models import Department

    coded = Department.objects.exclude(facility__insurance_code="")
    hospitals = sorted(
        set(coded.filter(code="CLINIC-PAEDIATRICS").values_list("facility__code", flat=True))
        & set(coded.filter(code="CLINIC-INTERNAL").values_list("facility__code", flat=True))
    )
    if not hospitals:
        raise SystemExit(
            "no hospital with internal medicine and paediatrics clinics and a BHYT code"
        )
    made = []
    for n, (number, child) in enumerate(people):
        made.append(
            json.dumps(
                {
                    "facility": hospitals[n % len(hospitals)],
                    "clinic": "CLINIC-PAEDIATRICS" if child else "CLINIC-INTERNAL",
                    "citizen_id": number,
                }
            )
        )
    return made


def end_earlier_runs() -> None:
    """End the visits an earlier run left waiting, as the hospitals' day would have: no
    one is ever called in this benchmark, and queues thousands long from earlier runs would
    make each run's check-ins slower than the one before (a clinic's queue counts its
    waiting patients at every check-in). Then VACUUM what check-ins write, as autovacuum
    would in time (it is off on the CI machines): the ended rows' old versions, left in the
    queue's index, would otherwise be walked by every count."""
    from django.db import connection, transaction

    from cityhealth.core import clock
    from cityhealth.insurance.models import EligibilityCheck, GatewayLookup
    from cityhealth.reception.enums import EntryState, VisitStatus
    from cityhealth.reception.models import EncounterDue, QueueEntry, TicketSequence, Visit

    now = clock.now()
    with transaction.atomic():
        QueueEntry.objects.filter(state=EntryState.WAITING).update(
            state=EntryState.CANCELLED, ended_at=now
        )
        Visit.objects.filter(status=VisitStatus.OPEN).update(
            status=VisitStatus.CANCELLED, ended_at=now
        )
    if connection.vendor == "postgresql":
        written = [QueueEntry, Visit, TicketSequence, EligibilityCheck, GatewayLookup, EncounterDue]
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(m._meta.db_table for m in written)}")


def run_wrk(
    *, port: int, token: str, payloads: list[str], connections: int, seconds: float,
    workdir: str,
) -> dict[str, float]:  # fmt: skip
    script = _WRK_SCRIPT % {"bodies": ",".join(json.dumps(b) for b in payloads), "token": token}
    got = run_wrk_script(
        script, port=port, connections=connections, seconds=seconds, workdir=workdir
    )
    return {"requests": got.requests, "errors": got.errors, "seconds": got.seconds,
            "p50": got.latencies_ms[50], "p95": got.latencies_ms[95],
            "p99": got.latencies_ms[99], "max": got.latencies_ms[100]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL database holding the population")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connections", type=int, default=8,
        help="concurrent clients (200 check-ins/s arriving at ~40 ms each keep about 8 in "
        "flight; more only queue here, which p99 then shows)",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="seconds, fresh SQLite; for CI")
    parser.add_argument(
        "--seed", type=int, default=None,
        help="which residents (default: new ones each run; a resident already checked in "
        "today is answered with the open visit, which is not the case measured)",
    )  # fmt: skip
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    seconds = 1.0 if args.smoke else args.seconds
    with tempfile.TemporaryDirectory() as workdir:
        url = args.postgres if args.postgres and not args.smoke else f"sqlite:///{workdir}/c.db"
        os.environ.setdefault("CITYHEALTH_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
        setup_django(url, workdir)
        from django.core.management import call_command
        from django.db import connection

        from cityhealth.facilities.models import Department

        if args.smoke:
            migrate_and_load_reference()
            call_command("synth", "population", "--persons", "2000", "--seed", "1", verbosity=0)
        else:
            call_command("migrate", verbosity=0)
            if not Department.objects.exists():
                migrate_and_load_reference()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM people_persons")
            population = int(cursor.fetchone()[0])
        wanted = 400 if args.smoke else int(seconds * 600) + 2000
        seed = args.seed if args.seed is not None else int(time.time())
        payloads = bodies(residents(wanted, seed=seed))
        end_earlier_runs()
        client_id, secret = make_client()
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
        port = free_port()
        server = start_server(port=port, workers=args.workers, url=url, workdir=workdir)
        try:
            token = fetch_token(port, client_id, secret)
            print(machine_line(connection.vendor))
            print(
                f"{population:,} persons; cityhealth.serve ×{args.workers} workers; wrk (1 "
                f"thread), {args.connections} connections, {seconds:.0f} s; a city-wide "
                f"system's token; {len(payloads):,} different residents (seed {seed}); load "
                "average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
            )
            warm, payloads = payloads[:300], payloads[300:]
            run_wrk(port=port, token=token, payloads=warm, connections=args.connections,
                    seconds=0.5 if args.smoke else 3.0, workdir=workdir)  # fmt: skip
            cpu0, pg0 = cpu_seconds(server), postgres_cpu_seconds() if args.postgres else 0.0
            got = run_wrk(
                port=port, token=token, payloads=payloads, connections=args.connections,
                seconds=seconds, workdir=workdir,
            )  # fmt: skip
            cpu1, pg1 = cpu_seconds(server), postgres_cpu_seconds() if args.postgres else 0.0
        finally:
            server.terminate()
            server.wait(timeout=30)
        done = got["requests"]
        rate = done / got["seconds"]
        print(
            f"check-ins {rate:8,.0f}/s  p50 {got['p50']:6.1f}  p95 {got['p95']:6.1f}  "
            f"p99 {got['p99']:6.1f}  max {got['max']:7.1f} ms  {int(got['errors'])} errors  "
            f"server CPU {(cpu1 - cpu0) / max(done, 1) * 1000:.2f} ms  PostgreSQL CPU "
            f"{(pg1 - pg0) / max(done, 1) * 1000:.2f} ms per check-in"
        )
        if done > len(payloads):
            print(f"note: {done - len(payloads):,} requests repeated a resident (answered 200)")
        met = rate >= FLOOR_RATE and got["p99"] <= FLOOR_P99_MS
        print(
            f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; floor "
            f"({FLOOR_RATE:.0f}/s, p99 ≤ {FLOOR_P99_MS:.0f} ms): {'met' if met else 'NOT met'}"
        )
        if got["errors"]:
            raise SystemExit(f"{int(got['errors'])} requests failed")


if __name__ == "__main__":
    main()
