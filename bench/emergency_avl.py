"""AVL ingest over real HTTP: 100 crew devices posting positions to the running server, and
how soon the dispatch console sees a change.

    .venv/bin/python bench/emergency_avl.py            # ~20 s per batch size, SQLite file
    .venv/bin/python bench/emergency_avl.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/emergency_avl.py --smoke    # a few seconds; what CI runs

The server is the platform's own (`python -m cityhealth.serve`: uvicorn with its worker
processes, `DEBUG` off) on a free port over a fresh database with 100 units. Devices post
`POST /api/emergency/units/{code}/positions` with 1 and with 10 positions per request over
keep-alive connections, then fleet gateways post `POST /api/emergency/positions` with the
fresh fix of 10 units per request (what a telematics server forwarding its devices does each
second: every position as new as with one per request); the figures are positions stored
per second, the request latency and the CPU the server's processes spent per request. The
console delay is measured while the batched load runs: a signed-in dispatcher follows
`/emergency/events/` (SSE) and the time from a status change POST to the snapshot showing it
is taken. Floors: ≥ 500 fresh positions/s through the gateway endpoint (one position per
request is printed beside it), console change within 1 s. The load generator runs on the same
cores as the server; the machine's load average is printed, since other work on it lowers
the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.people_population import drop_postgres, fresh_postgres, machine_line, setup_django

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "cityhealth_bench_avl"
UNITS = 100
CENTRE = (21.0285, 105.8542)
PASSWORD = "bench-dispatcher-pw"  # noqa: S105 — a throwaway account in a throwaway database
FLOOR_PER_S = 500.0
CONSOLE_FLOOR_S = 1.0


@dataclass
class Load:
    positions: int = 0
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(*, units: int) -> str:
    """Migrate, create the units, a dispatcher and a device token; the token's raw value."""
    from django.core.management import call_command
    from django.db import connection

    from cityhealth.accounts.models import ApiClient
    from cityhealth.accounts.services import create_staff_user, grant_role, issue_api_token
    from cityhealth.core import clock
    from cityhealth.core.roles import Role
    from cityhealth.emergency.models import Unit

    call_command("migrate", verbosity=0)
    now = clock.now()
    Unit.objects.bulk_create(
        Unit(
            code=f"115-B-{i:03d}",
            call_sign=f"B{i:03d}",
            kind="als",
            operator="centre",
            status_since=now,
            latitude=CENTRE[0],
            longitude=CENTRE[1],
            position_at=now,
        )
        for i in range(units)
    )
    user = create_staff_user(username="bench-dispatcher", password=PASSWORD)
    grant_role(user=user, role=Role.DISPATCHER)
    devices = ApiClient.objects.create(name="avl-bench", scopes=["report_unit_status"])
    raw = issue_api_token(client=devices).raw
    connection.close()
    # This process keeps no pooled connection: the server's are the only ones, and the bench
    # database can be dropped at the end.
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()
    return raw


def start_server(*, port: int, workers: int, url: str, workdir: str) -> subprocess.Popen[bytes]:
    """The platform's own server (`python -m cityhealth.serve`, `DEBUG` off) on `url`, its
    files under `workdir`; returns once `/healthz` answers."""
    env = os.environ | {
        "CITYHEALTH_DATABASE_URL": url,
        "CITYHEALTH_VAR_DIR": workdir,
        "CITYHEALTH_DEBUG": "0",
        "CITYHEALTH_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    command = [
        str(ROOT / ".venv/bin/python"), "-m", "cityhealth.serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 — our own argv
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """CPU time (user + system) of the server and its worker processes so far (Linux)."""
    pids = [server.pid]
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
        pids += [int(pid) for pid in children.split()]
    except OSError:
        return float("nan")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def post_positions(
    conn: http.client.HTTPConnection, token: str, code: str, count: int, rng: random.Random
) -> int:
    now = dt.datetime.now(dt.UTC)
    positions = [
        {
            "latitude": CENTRE[0] + rng.uniform(-0.02, 0.02),
            "longitude": CENTRE[1] + rng.uniform(-0.02, 0.02),
            "at": (now - dt.timedelta(seconds=count - i)).isoformat(),
            "speed_kmh": 30.0,
        }
        for i in range(count)
    ]
    body = json.dumps({"positions": positions})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", f"/api/emergency/units/{code}/positions", body, headers)
    response = conn.getresponse()
    answer = response.read()
    if response.status != 200:
        return -1
    return int(json.loads(answer)["stored"])


def post_fleet_positions(
    conn: http.client.HTTPConnection, token: str, codes: list[str], rng: random.Random
) -> int:
    """A telematics gateway's request: the latest fix of each of `codes`, just taken."""
    at = dt.datetime.now(dt.UTC).isoformat()
    positions = [
        {
            "unit": code,
            "latitude": CENTRE[0] + rng.uniform(-0.02, 0.02),
            "longitude": CENTRE[1] + rng.uniform(-0.02, 0.02),
            "at": at,
            "speed_kmh": 30.0,
        }
        for code in codes
    ]
    body = json.dumps({"positions": positions})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", "/api/emergency/positions", body, headers)
    response = conn.getresponse()
    answer = response.read()
    if response.status != 200:
        return -1
    return int(json.loads(answer)["stored"])


def run_load(
    *,
    port: int,
    token: str,
    batch: int,
    seconds: float,
    threads: int,
    units: int,
    gateway: bool = False,
) -> tuple[Load, float]:
    """Devices posting as fast as the server takes them; (figures, elapsed seconds)."""
    load = Load()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def device_gateway(index: int) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        stored = sent = errors = 0
        n = index
        while time.monotonic() < stop:
            code = f"115-B-{n % units:03d}"
            n += threads
            t0 = time.perf_counter()
            try:
                if gateway:  # one fresh fix of each of `batch` units
                    codes = [f"115-B-{(n + k * threads) % units:03d}" for k in range(batch)]
                    got = post_fleet_positions(conn, token, codes, rng)
                else:  # `batch` fixes of one unit
                    got = post_positions(conn, token, code, batch, rng)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                got = -1
            mine.append(time.perf_counter() - t0)
            sent += 1
            if got < 0:
                errors += 1
            else:
                stored += got
        conn.close()
        with lock:
            load.positions += stored
            load.requests += sent
            load.errors += errors
            load.latencies += mine

    started = time.perf_counter()
    workers = [threading.Thread(target=device_gateway, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return load, time.perf_counter() - started


def sign_in(port: int) -> str:
    """A dispatcher's session: the Cookie header value."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/accounts/login/")
    page = conn.getresponse()
    html = page.read().decode()
    cookies = _cookies(page.getheaders())
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise SystemExit("no CSRF token on the sign-in page")
    form = f"csrfmiddlewaretoken={match.group(1)}&username=bench-dispatcher&password={PASSWORD}"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
    }
    conn.request("POST", "/accounts/login/", form, headers)
    answer = conn.getresponse()
    answer.read()
    cookies |= _cookies(answer.getheaders())
    if answer.status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"sign-in failed: HTTP {answer.status}")
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key.strip()] = rest.split(";", 1)[0]
    return found


class Console:
    """Follows the SSE stream; `wait_for(code, status)` → when a snapshot first showed it."""

    def __init__(self, *, port: int, cookie: str) -> None:
        self.statuses: dict[str, str] = {}
        self.changed = threading.Condition()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", "/emergency/events/", headers={"Cookie": cookie})
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise SystemExit(f"console stream refused: HTTP {self.response.status}")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if not line.startswith("data: "):
                    continue
                snapshot = json.loads(line[6:])
                with self.changed:
                    self.statuses = {u["code"]: u["status"] for u in snapshot.get("units", [])}
                    self.changed.notify_all()
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return  # closed by close() (http.client drops its file: AttributeError)

    def wait_for(self, code: str, status: str, timeout: float = 10.0) -> float:
        with self.changed:
            self.changed.wait_for(lambda: self.statuses.get(code) == status, timeout=timeout)
            return time.perf_counter()

    def close(self) -> None:
        self.conn.close()


def console_delays(*, port: int, token: str, cookie: str, changes: int) -> list[float]:
    console = Console(port=port, cookie=cookie)
    console.wait_for("115-B-000", "available")  # the first snapshot
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    delays = []
    pauses = random.Random(1)  # spreads the changes over the phase of the poll
    for i in range(changes):
        status = "out_of_service" if i % 2 == 0 else "available"
        t0 = time.perf_counter()
        body = json.dumps({"status": status})
        conn.request("POST", "/api/emergency/units/115-B-000/status", body, headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"status change refused: HTTP {answer.status}")
        delays.append(console.wait_for("115-B-000", status) - t0)
        # A fixed pause would always land at the same point of the console's one-second poll.
        time.sleep(pauses.uniform(0.05, 1.0))
    conn.close()
    console.close()
    return delays


def report(
    batch: int, load: Load, elapsed: float, server_cpu: float, what: str = "fixes of one unit"
) -> float:
    ms = np.array(load.latencies) * 1000
    p50, p99 = np.percentile(ms, [50, 99]) if len(ms) else (0.0, 0.0)
    rate = load.positions / elapsed
    verdict = "meets" if rate >= FLOOR_PER_S else "BELOW"
    print(
        f"{batch:>3} {what} per request: {rate:8,.0f} positions/s "
        f"({load.requests / elapsed:,.0f} req/s, "
        f"{load.errors} errors)  latency p50 {p50:.1f} ms  p99 {p99:.1f} ms  "
        f"server CPU {server_cpu * 1000 / max(1, load.requests):.1f} ms/request  "
        f"→ {verdict} the {FLOOR_PER_S:.0f}/s floor"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--seconds", type=float, default=20.0, help="per batch size")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--threads", type=int, default=16, help="concurrent device gateways")
    parser.add_argument("--smoke", action="store_true", help="1.5 s per phase, for CI")
    args = parser.parse_args()
    seconds = 1.5 if args.smoke else args.seconds
    with tempfile.TemporaryDirectory() as workdir:
        if args.postgres:
            url = fresh_postgres(args.postgres, BENCH_DATABASE)
        else:
            url = f"sqlite:///{workdir}/avl.sqlite3"
        setup_django(url, workdir)
        token = prepare(units=UNITS)
        port = free_port()
        server = start_server(port=port, workers=args.workers, url=url, workdir=workdir)
        pool = "off" if os.environ.get("CITYHEALTH_DATABASE_POOL") == "0" else "on"
        try:
            print(machine_line("postgresql" if args.postgres else "sqlite"))
            print(
                f"cityhealth.serve (uvicorn) ×{args.workers} workers, connection pool "
                f"{pool}, {UNITS} units, "
                f"{args.threads} device gateways (keep-alive), {seconds:g} s per batch size; "
                f"load average before: {os.getloadavg()[0]:.2f}"
            )
            # Untimed: each worker imports the URL map and opens its connections on its
            # first requests.
            run_load(
                port=port, token=token, batch=1, seconds=1.0, threads=args.threads, units=UNITS
            )
            rates = {}
            for batch in (1, 10):
                before = cpu_seconds(server)
                load, elapsed = run_load(
                    port=port, token=token, batch=batch, seconds=seconds,
                    threads=args.threads, units=UNITS,
                )  # fmt: skip
                rates[batch] = report(batch, load, elapsed, cpu_seconds(server) - before)
            # A fleet's gateway: one fresh fix of each of 10 units per request, so every
            # position is as new as with one per request (the console's 1 s still holds).
            before = cpu_seconds(server)
            load, elapsed = run_load(
                port=port, token=token, batch=10, seconds=seconds,
                threads=args.threads, units=UNITS, gateway=True,
            )  # fmt: skip
            gateway_rate = report(10, load, elapsed, cpu_seconds(server) - before, "units")
            cookie = sign_in(port)
            probe: dict[str, list[float]] = {}

            def measure() -> None:
                probe["delays"] = console_delays(
                    port=port, token=token, cookie=cookie, changes=2 if args.smoke else 10
                )

            watcher = threading.Thread(target=measure)
            watcher.start()
            # The console is timed while the devices keep posting (batches of 10).
            background, _ = run_load(
                port=port, token=token, batch=10, seconds=seconds if args.smoke else 12.0,
                threads=max(1, args.threads // 2), units=UNITS,
            )  # fmt: skip
            watcher.join()
            delays = np.array(probe.get("delays", [float("nan")]))
            print(
                f"console delay (status POST → SSE snapshot, under load of "
                f"{background.positions / max(1, len(background.latencies)):.0f}-position "
                f"batches): median {np.median(delays):.2f} s, max {delays.max():.2f} s "
                f"over {len(delays)} changes → "
                f"{'within' if delays.max() <= CONSOLE_FLOOR_S else 'OVER'} "
                f"{CONSOLE_FLOOR_S:.0f} s"
            )
        finally:
            server.terminate()
            server.wait(timeout=20)
    if args.postgres:
        drop_postgres(args.postgres, BENCH_DATABASE)
    if not args.smoke and gateway_rate < FLOOR_PER_S:
        print(f"FAIL: below {FLOOR_PER_S:.0f} fresh positions/s through a fleet gateway")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
