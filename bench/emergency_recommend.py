"""The recommendation for a new incident: 100 free units across the city, at the evening peak.

    .venv/bin/python bench/emergency_recommend.py            # 1,000 incidents, SQLite file
    .venv/bin/python bench/emergency_recommend.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/emergency_recommend.py --smoke    # 50 incidents; what CI runs

Each call is `emergency.recommend.recommend_units`: the units read from the database, every
one's travel time to the incident over the city model (ward graph, street graph in the
centre), the capable ones ranked. Prints p50/p95/p99/max in milliseconds after a warm-up.

Beside it, in the same run: the call-taker's address search (`emergency.places`) over street,
ward and landmark names as callers say them (no diacritics, house numbers), and the move-up
worked out after an assignment (`emergency.moveup.plan_move_up`, the units homed at the 115
centre and its stations), which runs in the background task.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.emergency_routing import CITY_BOX, PEAK, _points_in_city
from bench.people_population import (
    drop_postgres,
    fresh_postgres,
    machine_line,
    migrate_and_load_reference,
    setup_django,
)

BENCH_DATABASE = "cityhealth_bench_recommend"
UNITS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="PostgreSQL server URL (a bench database is made)")
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="50 incidents, for CI")
    args = parser.parse_args()
    count = 50 if args.smoke else args.incidents
    with tempfile.TemporaryDirectory() as workdir:
        if args.postgres:
            url = fresh_postgres(args.postgres, BENCH_DATABASE)
        else:
            url = f"sqlite:///{workdir}/recommend.sqlite3"
        setup_django(url, workdir)
        from django.db import connection

        from cityhealth.core import clock
        from cityhealth.emergency.enums import Operator, UnitKind
        from cityhealth.emergency.models import Incident, Unit
        from cityhealth.emergency.recommend import recommend_units
        from cityhealth.emergency.routing import TravelModel

        print(machine_line(connection.vendor))
        migrate_and_load_reference()
        started = time.perf_counter()
        model = TravelModel.shared()
        print(f"travel model loaded in {time.perf_counter() - started:.2f} s")
        rng = np.random.default_rng(args.seed)
        kinds = [UnitKind.ALS_AMBULANCE] * 6 + [UnitKind.BLS_AMBULANCE] * 3 + [UnitKind.MOTORBIKE]
        for i, (lat, lon) in enumerate(_points_in_city(model, rng, UNITS, CITY_BOX)):
            Unit.objects.create(
                code=f"U{i:03d}",
                call_sign=f"U{i:03d}",
                kind=kinds[i % len(kinds)],
                operator=Operator.CENTRE,
                status_since=clock.now(),
                latitude=lat,
                longitude=lon,
                position_at=clock.now(),
            )
        places = _points_in_city(model, rng, count, CITY_BOX)
        incidents = [
            Incident.objects.create(
                number=f"B{i:05d}",
                received_at=clock.now(),
                latitude=lat,
                longitude=lon,
                priority="P1",
                triage={"care": "als", "motorbike": "allowed"},
                car_reachable=bool(i % 3),
                walk_metres=0 if i % 3 else 150,
            )
            for i, (lat, lon) in enumerate(places)
        ]
        for incident in incidents[:10]:
            recommend_units(incident=incident, at=PEAK, model=model)
        timings = []
        for incident in incidents:
            t0 = time.perf_counter()
            found = recommend_units(incident=incident, at=PEAK, model=model)
            timings.append(time.perf_counter() - t0)
            assert found, "no unit recommended"
        ms = np.array(timings) * 1000
        p50, p95, p99 = np.percentile(ms, [50, 95, 99])
        print(
            f"recommend_units, {UNITS} free units, evening peak: {len(ms):,} incidents  "
            f"p50 {p50:.2f}  p95 {p95:.2f}  p99 {p99:.2f}  max {ms.max():.2f} ms"
        )
        _address_search(rng, smoke=args.smoke)
        _move_up(smoke=args.smoke)
        connection.close()
    if args.postgres:
        drop_postgres(args.postgres, BENCH_DATABASE)
    if p99 > 50 and not args.smoke:
        print("FAIL: p99 above 50 ms")
        raise SystemExit(1)


def _address_search(rng: np.random.Generator, *, smoke: bool) -> None:
    from cityhealth.core.text import fold_for_search
    from cityhealth.emergency.places import search_places, street_lines
    from cityhealth.geo.models import Ward

    streets = sorted({line.name for line in street_lines() if line.name})
    wards = list(Ward.objects.filter(province_id="01").values_list("short_name", flat=True))
    count = 50 if smoke else 1000
    queries = []
    for i in range(count):
        if i % 2:
            name = streets[int(rng.integers(len(streets)))]
            queries.append(f"so {int(rng.integers(1, 300))} {fold_for_search(name)}")
        else:
            queries.append(fold_for_search(wards[int(rng.integers(len(wards)))]))
    search_places(queries[0])  # the street index is built once per process
    timings, found = [], 0
    for query in queries:
        t0 = time.perf_counter()
        found += bool(search_places(query))
        timings.append(time.perf_counter() - t0)
    ms = np.array(timings) * 1000
    p50, p99 = np.percentile(ms, [50, 99])
    print(
        f"search_places, {len(streets)} street names + {len(wards)} wards: {count:,} queries  "
        f"p50 {p50:.2f}  p99 {p99:.2f} ms  found {found / count:.0%}"
    )


def _move_up(*, smoke: bool) -> None:
    from cityhealth.emergency.enums import UnitStatus
    from cityhealth.emergency.models import Unit
    from cityhealth.emergency.moveup import plan_move_up
    from cityhealth.facilities.models import Facility

    stations = list(Facility.objects.filter(code__startswith="115-").order_by("code"))
    units = list(Unit.objects.order_by("code"))
    for i, unit in enumerate(units):
        unit.home = stations[i % len(stations)]
        # A third of the fleet out on jobs, as on a busy evening.
        unit.status = UnitStatus.EN_ROUTE if i % 3 == 0 else UnitStatus.AVAILABLE
    Unit.objects.bulk_update(units, ["home", "status"])
    timings = []
    for _ in range(2 if smoke else 10):
        t0 = time.perf_counter()
        planned = plan_move_up(at=PEAK)
        timings.append(time.perf_counter() - t0)
    ms = np.array(timings) * 1000
    what = (
        f"{planned.unit.code} → {planned.post.code} (+{planned.gain_residents:,} residents)"
        if planned
        else "no move worth making"
    )
    print(
        f"plan_move_up, {len(units)} units ({len(stations)} posts): {len(ms)} runs  "
        f"median {np.median(ms):.0f}  max {ms.max():.0f} ms  ({what})"
    )


if __name__ == "__main__":
    main()
