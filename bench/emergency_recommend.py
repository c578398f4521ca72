"""The recommendation for a new incident: 100 free units across the city, at the evening peak.

    .venv/bin/python bench/emergency_recommend.py            # 1,000 incidents, SQLite file
    .venv/bin/python bench/emergency_recommend.py --postgres postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/emergency_recommend.py --smoke    # 50 incidents; what CI runs

Each call is `emergency.recommend.recommend_units`: the units read from the database, every
one's travel time to the incident over the city model (ward graph, street graph in the
centre), the capable ones ranked. Prints p50/p95/p99/max in milliseconds after a warm-up.
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
        connection.close()
    if args.postgres:
        drop_postgres(args.postgres, BENCH_DATABASE)
    if p99 > 50 and not args.smoke:
        print("FAIL: p99 above 50 ms")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
