"""Card checks per second: the VSS gateway client against the simulator on its own port.

    .venv/bin/python bench/insurance_gateway.py            # ~10 s per run, SQLite file
    .venv/bin/python bench/insurance_gateway.py --smoke    # a few seconds; what CI runs

A fresh SQLite database (in a temporary folder) gets one facility, one registered clerk and
`--persons` persons with a card each. The simulator (`insurance.simulator`, zero latency)
is served on a free port in this process, and the client (`insurance.gateway.VssClient`:
token cache, timeouts, retries, circuit breaker) checks random cards of them, first from one
thread, then from `--threads` threads sharing the one client (as a web process does). Each
check is one HTTP request (the token is taken once) and one registry read by the simulator.
Figures: checks per second and the p50/p95/max latency of a check in milliseconds. The
simulator runs on the same cores as the load, so the figures are a floor for the client.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _setup(workdir: str) -> None:
    os.environ["CITYHEALTH_DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["CITYHEALTH_VAR_DIR"] = workdir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _registry(persons: int, seed: int) -> list[tuple[str, str, str]]:
    """(card code, name, birth) of each person made."""
    from django.db import transaction

    from cityhealth.accounts.services import create_staff_user, grant_role
    from cityhealth.core.roles import Role
    from cityhealth.facilities.models import Facility
    from cityhealth.people.models import InsuranceCard, Person

    rng = random.Random(seed)
    made = []
    with transaction.atomic():
        facility = Facility.objects.create(
            code="BENCH", insurance_code="01001", name="Bench", kind="general_hospital"
        )
        clerk = create_staff_user(
            username="bench-clerk", password="bench-only-9", full_name="Bench Clerk",  # noqa: S106
            citizen_id="001190000042",
        )  # fmt: skip
        grant_role(user=clerk, role=Role.RECEPTIONIST, facility=facility)
        for n in range(persons):
            born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(80 * 365))
            person = Person.objects.create(full_name=f"Nguyễn Văn Thử {n}", birth_date=born)
            number = f"{7900000000 + n}"
            InsuranceCard.objects.create(
                person=person, code=f"DN401{number}", social_insurance_number=number,
                group="DN", benefit_level=4, valid_from=dt.date(2020, 1, 1),
                valid_to=dt.date(2099, 12, 31), primary_care_facility="01001",
            )  # fmt: skip
            made.append((f"DN401{number}", person.full_name.upper(), born.strftime("%d%m%Y")))
    return made


def _run(
    client: object, cards: list[tuple[str, str, str]], seconds: float, threads: int, seed: int
) -> None:
    from cityhealth.insurance.gateway import Account, VssClient
    from cityhealth.insurance.types import CardQuery

    assert isinstance(client, VssClient)
    account = Account.of_facility("01001", "bench-only")
    samples: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def work(worker: int) -> None:
        rng = random.Random(seed + worker)
        mine: list[float] = []
        while time.perf_counter() < stop_at:
            code, name, birth = rng.choice(cards)
            query = CardQuery(code, name, birth, "BENCH CLERK", "001190000042")
            started = time.perf_counter()
            answer = client.check_card(account, query).answer
            mine.append(time.perf_counter() - started)
            if answer.code != "000":
                failures[0] += 1
        with lock:
            samples.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"{threads} thread(s): {len(ms) / elapsed:8.0f} checks/s  "
        f"p50 {statistics.median(ms):6.2f}  p95 {p95:6.2f}  max {ms[-1]:7.2f} ms  "
        f"({len(ms):,} checks, {failures[0]} not 000)"
    )
    if failures[0]:
        raise SystemExit("some checks did not answer 000")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per run")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--smoke", action="store_true", help="small and short, for CI")
    args = parser.parse_args()
    if args.smoke:
        args.persons, args.seconds = 50, 1.0
    with tempfile.TemporaryDirectory(prefix="bench-insurance-") as workdir:
        started = time.perf_counter()
        _setup(workdir)
        cards = _registry(args.persons, args.seed)
        print(f"database ready in {time.perf_counter() - started:.1f} s ({len(cards)} cards)")

        from cityhealth.insurance.gateway import VssClient
        from cityhealth.insurance.simulator import ServedSimulator, VssSimulator

        with ServedSimulator(VssSimulator(seed=args.seed)) as served:
            client = VssClient(served.url)
            try:
                print(f"simulator at {served.url}, zero latency; client with default settings")
                _run(client, cards, args.seconds, 1, args.seed)
                _run(client, cards, args.seconds, args.threads, args.seed)
            finally:
                client.close()


if __name__ == "__main__":
    main()
