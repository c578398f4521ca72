"""The shared record's read and search floors over real HTTP, beside raw PostgreSQL.

    .venv/bin/python bench/fhir_http.py --postgres postgres://postgres@127.0.0.1:5432/cityhealth_synthrec
    .venv/bin/python bench/fhir_http.py --smoke                  # seconds, fresh SQLite; CI
    .venv/bin/python bench/fhir_http.py --smoke --postgres URL   # seconds, fresh small database

The server is the platform's own (`python -m cityhealth.serve`: uvicorn worker processes,
`DEBUG` off, pooled connections). `--postgres` naming a database that already holds resources
(e.g. the one `cityhealth synth records` filled) is measured as it is; otherwise a fresh one
(`cityhealth_bench_http`, dropped after) or a SQLite file gets a small data set. The bench
makes an OAuth2 client for a hospital (`cityhealth accounts create-client`, scopes
`system/*.rs` and `view_persons`), takes a token from `POST /oauth/token` and sends every
request with it: authentication, scopes, consent and the access trail run as in production.

Scenarios, each for `--seconds` after a short warm-up, over keep-alive connections:
- read: `GET {type}/{id}` of random existing resources of several types;
- identifier: `GET {type}?identifier=system|value` of random existing identifiers;
- patient+code+date: `GET Observation?patient=Patient/P&code=loinc|C&date=geD` for random
  observations (P, C and D taken from one, so every search finds at least it);
- $everything: `GET Patient/P/$everything` of persons with about 200 resources.

The load generator is `wrk` (Debian's package, `apt-get install -y wrk`) with one thread when
it is installed, else Python processes with keep-alive `http.client` connections (slower:
it takes more of the shared cores; `--generator python` forces it). Printed per scenario:
requests/s, latency p50/p95/p99, the CPU the server's processes and PostgreSQL's spent per
request; then the same lookups on raw PostgreSQL (the SELECTs the server issued for a sample
of these requests, captured in-process and replayed with psycopg from as many processes as
there are connections), the ratio, and the machine's load average before and after.
Floors (issue 4): read ≥ 1,000/s; search ≥ 500/s with p99 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.emergency_avl import cpu_seconds, free_port, start_server
from bench.people_population import drop_postgres, fresh_postgres, machine_line, setup_django

ROOT = Path(__file__).resolve().parents[1]
FRESH_DATABASE = "cityhealth_bench_http"
READ_TYPES = ("Observation", "Encounter", "Condition", "MedicationRequest", "DiagnosticReport",
              "Practitioner")  # fmt: skip
LOINC = "http://loinc.org"
SAMPLE = 3000  # distinct requests per scenario (cycled through at random)
RAW_SAMPLE = 300  # requests whose SQL is captured for the raw PostgreSQL replay
FLOORS = {"read": (1000.0, None), "identifier": (500.0, 100.0), "patient+code+date": (500.0, 100.0)}


@dataclass
class Figures:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: dict[int, float] = field(default_factory=dict)  # percentile → ms

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# --- data ------------------------------------------------------------------------------------


def load_smoke_data() -> str:
    """A small record set (persons with 200 resources among smaller ones, Practitioners with
    identifiers); the code of the hospital the bench client acts for."""
    from django.db import transaction

    from bench.fhir_everything import HOSPITAL, load_records
    from cityhealth.records.bulk import NewResource, write_new_resources

    load_records(background=60, per_person=20, patients=3, resources=200, seed=1)
    license_system = "http://fhir.ehealth.gov.vn/core/sid/provider-medical-license-number"
    with transaction.atomic():
        write_new_resources(
            resources=[
                NewResource(
                    body={
                        "resourceType": "Practitioner",
                        "id": f"lic-{n}",
                        "identifier": [{"system": license_system, "value": f"CCHN-{n:05d}"}],
                        "name": [{"family": f"Bác sĩ {n}"}],
                    }
                )
                for n in range(50)
            ],
            source="bench",
            trusted=True,
        )
    return HOSPITAL


def hospital_code() -> str:
    from cityhealth.facilities.models import Facility

    found = (
        Facility.objects.filter(code__startswith="BV-").order_by("code").first()
        or Facility.objects.order_by("code").first()
    )
    if found is None:
        raise SystemExit("no facility in the database to act for")
    return found.code


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="/:")


def targets(rng: random.Random) -> dict[str, list[str]]:
    """Paths of each scenario, taken from what the database holds."""
    low, high = _rows("SELECT min(id), max(id) FROM records_resources")[0]

    def some_ids(count: int) -> str:  # integers: safe to write into the statement
        return ", ".join(str(rng.randint(low, high)) for _ in range(count))

    kinds = ", ".join(f"'{kind}'" for kind in READ_TYPES)
    reads: list[str] = []
    for _ in range(20):
        found = _rows(
            "SELECT resource_type, logical_id FROM records_resources "  # noqa: S608
            f"WHERE id IN ({some_ids(SAMPLE)}) AND NOT deleted AND resource_type IN ({kinds})"
        )
        reads += [f"/fhir/R4/{kind}/{_q(logical_id)}" for kind, logical_id in found]
        if len(reads) >= SAMPLE:
            break
    identifiers = [
        f"/fhir/R4/{kind}?identifier={_q(system)}%7C{_q(code)}"
        for kind, system, code in _rows(
            "SELECT t.resource_type, t.system, t.code FROM records_search_tokens t "
            "JOIN records_resources r ON r.id = t.resource_id "
            "WHERE t.param = 'identifier' AND t.system <> '' AND NOT r.deleted "
            "ORDER BY random() LIMIT %s",
            [SAMPLE],
        )
    ]
    observations = _rows(
        "SELECT r.person_id, t.code, d.low FROM records_resources r "  # noqa: S608
        "JOIN records_search_tokens t ON t.resource_id = r.id AND t.param = 'code' "
        "  AND t.system = %s "
        "JOIN records_search_dates d ON d.resource_id = r.id AND d.param = 'date' "
        "WHERE r.resource_type = 'Observation' AND r.person_id IS NOT NULL "
        f"  AND r.id IN ({some_ids(SAMPLE * 4)}) AND NOT r.deleted",
        [LOINC],
    )
    searches = []
    for person, code, when in observations[:SAMPLE]:
        day = (when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(when)).date()
        since = day - dt.timedelta(days=rng.randint(0, 400))
        searches.append(
            f"/fhir/R4/Observation?patient=Patient/{person}&code={_q(LOINC)}%7C{_q(code)}"
            f"&date=ge{since:%Y-%m-%d}"
        )
    everything = [
        f"/fhir/R4/Patient/{person}/$everything"
        for (person,) in _rows(
            "SELECT person_id FROM records_resources WHERE person_id IS NOT NULL "
            "GROUP BY person_id HAVING count(*) BETWEEN 180 AND 230 LIMIT 200"
        )
    ]
    scenarios = {
        "read": reads[:SAMPLE],
        "identifier": identifiers,
        "patient+code+date": searches,
        "$everything": everything,
    }
    for name, paths in scenarios.items():
        rng.shuffle(paths)
        if not paths:
            raise SystemExit(f"nothing in the database to measure {name} with")
    return scenarios


# --- the client and its token ----------------------------------------------------------------


def make_client(facility: str) -> tuple[str, str]:
    """(client id, secret) of a hospital's OAuth2 client, made as an operator would."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command(
        "accounts",
        "create-client",
        "--name",
        "bench-http-his",
        "--facility",
        facility,
        "--scope",
        "system/*.rs view_persons",
        stdout=out,
    )
    fields = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", out.getvalue(), re.M))
    return fields["client_id"], fields["client_secret"]


def fetch_token(port: int, client_id: str, secret: str) -> str:
    import http.client

    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST", "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    answer = conn.getresponse()
    body = json.loads(answer.read())
    conn.close()
    if answer.status != 200:
        raise SystemExit(f"token refused: HTTP {answer.status} {body}")
    return str(body["access_token"])


# --- load generators -------------------------------------------------------------------------

_WRK_SCRIPT = """
local paths = {%(paths)s}
local token = "%(token)s"
local n = #paths
local counter = 0
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
  counter = math.random(n)
end
function request()
  counter = counter %% n + 1
  return wrk.format("GET", paths[counter], {["Authorization"] = "Bearer " .. token,
                                             ["Accept"] = "application/fhir+json"})
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


def run_wrk(
    *, port: int, token: str, paths: list[str], connections: int, seconds: float, workdir: str
) -> Figures:
    script = _WRK_SCRIPT % {"paths": ",".join(json.dumps(p) for p in paths), "token": token}
    return run_wrk_script(
        script, port=port, connections=connections, seconds=seconds, workdir=workdir
    )


def run_wrk_script(
    script: str, *, port: int, connections: int, seconds: float, workdir: str
) -> Figures:
    """Run `wrk` with a Lua script whose `done` writes the RESULT line these benches read."""
    path = Path(workdir) / "bench.lua"
    path.write_text(script)
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(path), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"^RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)$", out, re.M)
    if match is None:
        raise SystemExit(f"wrk said:\n{out}")
    requests, errors, micros = (int(match.group(i)) for i in (1, 2, 3))
    p50, p95, p99, top = (float(match.group(i)) for i in (4, 5, 6, 7))
    return Figures(
        requests=requests,
        errors=errors,
        seconds=micros / 1e6,
        latencies_ms={50: p50, 95: p95, 99: p99, 100: top},
    )


def _python_connection(
    args: tuple[int, str, list[str], float, int],
) -> tuple[int, int, list[float]]:
    import http.client

    port, token, paths, stop_at, seed = args
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    done = errors = 0
    latencies = []
    while time.time() < stop_at:
        path = paths[rng.randrange(len(paths))]
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            ok = answer.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append((time.perf_counter() - started) * 1000)
        done += 1
        errors += not ok
    conn.close()
    return done, errors, latencies


def run_python(
    *, port: int, token: str, paths: list[str], connections: int, seconds: float
) -> Figures:
    """One process per connection: no GIL shared between connections."""
    started = time.time()
    stop_at = started + seconds
    jobs = [(port, token, paths, stop_at, n) for n in range(connections)]
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        results = pool.map(_python_connection, jobs)
    elapsed = time.time() - started
    latencies = np.array([ms for _, _, mine in results for ms in mine])
    return Figures(
        requests=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        seconds=elapsed,
        latencies_ms=_percentiles(latencies),
    )


def _percentiles(ms: np.ndarray) -> dict[int, float]:
    if not len(ms):
        return {50: 0.0, 95: 0.0, 99: 0.0, 100: 0.0}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {50: float(p50), 95: float(p95), 99: float(p99), 100: float(ms.max())}


# --- raw PostgreSQL ----------------------------------------------------------------------------


Lookup = list[tuple[str, list[Any], bool]]  # (SQL with %s, parameters, prepared?)


def captured_lookups(token: str, paths: list[str]) -> list[Lookup]:
    """The SELECTs of the lookup (records, registry, consent) the server's code issues for
    each of `paths`, with their parameters and whether the server prepares them, run
    in-process through Django's test client with the same token; the token check and the
    trail's INSERT are left out (no lookup of the data)."""
    from django.db import connection
    from django.test import Client

    from cityhealth.db.postgresql.base import PreparedCursor

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/fhir+json")
    captured: list[Lookup] = []
    statements: Lookup = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        prepared = isinstance(getattr(context["cursor"], "cursor", None), PreparedCursor)
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "accounts_" not in sql:
            statements.append((sql, list(params or []), prepared))
        return execute(sql, params, many, context)

    for path in paths:
        statements.clear()
        with connection.execute_wrapper(record):
            answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code} {answer.content[:300]!r}")
        captured.append(list(statements))
    return captured


def _raw_worker(args: tuple[str, list[Lookup], float, int]) -> tuple[int, list[float]]:
    """Replay lookups as the server runs them: parameters bound on the server, prepared
    where the server prepares (psycopg, autocommit)."""
    import psycopg

    url, lookups, stop_at, seed = args
    rng = random.Random(seed)
    done = 0
    latencies = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=2**31 - 1) as conn:
        while time.time() < stop_at:
            lookup = lookups[rng.randrange(len(lookups))]
            started = time.perf_counter()
            for sql, params, prepared in lookup:
                conn.execute(sql, params, prepare=prepared).fetchall()
            latencies.append((time.perf_counter() - started) * 1000)
            done += 1
    return done, latencies


def run_raw(*, url: str, statements: list[Lookup], connections: int, seconds: float) -> Figures:
    started = time.time()
    stop_at = started + seconds
    jobs = [(url, statements, stop_at, n) for n in range(connections)]
    with multiprocessing.get_context("fork").Pool(connections) as pool:
        results = pool.map(_raw_worker, jobs)
    elapsed = time.time() - started
    return Figures(
        requests=sum(r[0] for r in results),
        seconds=elapsed,
        latencies_ms=_percentiles(np.array([ms for _, mine in results for ms in mine])),
    )


def postgres_cpu_seconds() -> float:
    """CPU time (user + system) of every PostgreSQL process on this machine so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# --- the run -----------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    settings = connection.settings_dict
    return (
        f"postgresql://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def describe(name: str, figures: Figures, server_cpu: float, pg_cpu: float) -> str:
    per = max(1, figures.requests)
    lat = figures.latencies_ms
    return (
        f"{name:<18} {figures.rate:8,.0f} req/s  p50 {lat[50]:6.1f}  p95 {lat[95]:6.1f}  "
        f"p99 {lat[99]:6.1f}  max {lat[100]:7.1f} ms  {figures.errors} errors  "
        f"server CPU {server_cpu * 1000 / per:.2f} ms/req  PostgreSQL CPU "
        f"{pg_cpu * 1000 / per:.2f} ms/req"
    )


def verdict(name: str, figures: Figures) -> str:
    if name not in FLOORS:
        return ""
    rate_floor, p99_floor = FLOORS[name]
    misses = []
    if figures.rate < rate_floor:
        misses.append(f"{figures.rate / rate_floor - 1:+.0%} under {rate_floor:,.0f}/s")
    if p99_floor is not None and figures.latencies_ms[99] >= p99_floor:
        misses.append(f"p99 {figures.latencies_ms[99] - p99_floor:+.1f} ms over {p99_floor:.0f}")
    return "  → meets the floor" if not misses else "  → BELOW the floor: " + "; ".join(misses)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="a PostgreSQL URL: measured as it is if it has data")
    parser.add_argument("--seconds", type=float, default=20.0, help="per scenario")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--only", action="append", default=[], help="a scenario (repeatable)")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw PostgreSQL replay")
    parser.add_argument("--smoke", action="store_true", help="seconds, fresh database; for CI")
    args = parser.parse_args()
    seconds = 1.0 if args.smoke else args.seconds
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk (or --generator python)")

    with tempfile.TemporaryDirectory() as workdir:
        fresh = False
        if args.postgres and not args.smoke:
            url = args.postgres
        elif args.postgres:
            url, fresh = fresh_postgres(args.postgres, FRESH_DATABASE), True
        else:
            url = f"sqlite:///{workdir}/fhir_http.sqlite3"
        # The raw replay's capture runs Django's test client in this process.
        os.environ.setdefault("CITYHEALTH_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
        setup_django(url, workdir)
        from django.core.management import call_command
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        server = None
        try:
            if fresh or not args.postgres:
                call_command("migrate", verbosity=0)
                facility = load_smoke_data()
            else:
                pending = MigrationExecutor(connection).migration_plan(
                    MigrationExecutor(connection).loader.graph.leaf_nodes()
                )
                if pending:
                    names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending)
                    print(f"note: migrations not applied to this database: {names}")
                facility = hospital_code()
                if connection.vendor == "postgresql" and not _rows(
                    "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'records_search_tokens' "
                    "AND coalesce(last_analyze, last_autoanalyze) IS NOT NULL"
                ):
                    print(
                        "note: the search index was never analyzed: plans will be poor until "
                        "VACUUM (ANALYZE) or autovacuum runs"
                    )
            rng = random.Random(11)
            paths = targets(rng)
            total = _rows("SELECT count(*) FROM records_resources")[0][0]
            client_id, secret = make_client(facility)
            raw_url = libpq_url(url)
            connection.close()
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()

            port = free_port()
            server = start_server(port=port, workers=args.workers, url=url, workdir=workdir)
            token = fetch_token(port, client_id, secret)
            print(machine_line(connection.vendor))
            print(
                f"{total:,} resources; cityhealth.serve ×{args.workers} workers; load generator "
                f"{'wrk (1 thread)' if generator == 'wrk' else 'Python processes'}, "
                f"{args.connections} keep-alive connections, {seconds:.0f} s per scenario; "
                f"a hospital's OAuth2 token ({facility}); load average before: "
                + " ".join(f"{x:.2f}" for x in os.getloadavg())
            )
            scenarios = [name for name in paths if not args.only or name in args.only]
            results: dict[str, Figures] = {}
            for name in scenarios:

                def load(seconds: float, paths: list[str] = paths[name]) -> Figures:
                    if generator == "wrk":
                        return run_wrk(
                            port=port,
                            token=token,
                            paths=paths,
                            connections=args.connections,
                            seconds=seconds,
                            workdir=workdir,
                        )
                    return run_python(
                        port=port,
                        token=token,
                        paths=paths,
                        connections=args.connections,
                        seconds=seconds,
                    )

                load(0.5 if args.smoke else 3.0)  # warm-up: imports, connections, caches
                cpu0, pg0 = cpu_seconds(server), postgres_cpu_seconds()
                figures = load(seconds)
                cpu1, pg1 = cpu_seconds(server), postgres_cpu_seconds()
                results[name] = figures
                print(describe(name, figures, cpu1 - cpu0, pg1 - pg0) + verdict(name, figures))
                if figures.errors:
                    raise SystemExit(f"{name}: {figures.errors} requests failed")

            if raw_url and not args.no_raw:
                setup = connection  # the bench process's own connection, for the capture
                print(
                    f"raw PostgreSQL: the SELECTs the server issued for {RAW_SAMPLE} requests "
                    f"of each scenario, replayed by psycopg from {args.connections} processes"
                )
                for name in scenarios:
                    statements = captured_lookups(token, paths[name][:RAW_SAMPLE])
                    setup.close()
                    raw = run_raw(
                        url=raw_url,
                        statements=statements,
                        connections=args.connections,
                        seconds=seconds / 2,
                    )
                    per_request = np.mean([len(s) for s in statements])
                    print(
                        f"{name:<18} {raw.rate:8,.0f} lookups/s  p50 {raw.latencies_ms[50]:6.1f}"
                        f"  p99 {raw.latencies_ms[99]:6.1f} ms  ({per_request:.1f} statements "
                        f"each)  HTTP/raw: {results[name].rate / raw.rate:.2f}"
                    )
            print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            connection.close()
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()
            if fresh and args.postgres:
                drop_postgres(args.postgres, FRESH_DATABASE)


if __name__ == "__main__":
    main()
