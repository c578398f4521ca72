"""Travel-time queries for 115 dispatch: one incident, 100 units, at the evening peak.

    .venv/bin/python bench/emergency_routing.py             # 1,000 queries
    .venv/bin/python bench/emergency_routing.py --smoke     # 50 queries; what CI runs
    .venv/bin/python bench/emergency_routing.py --extract city.osm.pbf   # an operator's extract

Prints the model's load time, then p50/p99 of `travel_seconds` for 100 random origins and a
random destination, twice: all points across the city (mostly the ward graph), and all points
inside the street-level extract (every origin routed over the roads).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

UNITS = 100
HANOI = timezone(timedelta(hours=7))
PEAK = datetime(2025, 10, 15, 17, 45, tzinfo=HANOI)  # a Wednesday, evening peak
CITY_BOX = (20.56, 21.39, 105.28, 106.02)
CENTRAL_BOX = (21.012, 21.038, 105.817, 105.858)  # inside the shipped central extract


def _points_in_city(
    model: object, rng: np.random.Generator, count: int, box: tuple[float, ...]
) -> list[tuple[float, float]]:
    from cityhealth.emergency.routing import TravelModel

    assert isinstance(model, TravelModel)
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lat, lon = rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])
        if model.ward_of(lat, lon) is not None:
            points.append((float(lat), float(lon)))
    return points


def _run(label: str, model: object, queries: int, box: tuple[float, ...], seed: int) -> None:
    from cityhealth.emergency.routing import TravelModel

    assert isinstance(model, TravelModel)
    rng = np.random.default_rng(seed)
    pool = _points_in_city(model, rng, 2_000, box)
    model.travel_seconds(origins=pool[:UNITS], destination=pool[-1], at=PEAK)  # warm caches
    timings = []
    methods: dict[str, int] = {}
    for _ in range(queries):
        picks = rng.choice(len(pool), UNITS + 1, replace=False)
        origins = [pool[i] for i in picks[:UNITS]]
        started = time.perf_counter()
        estimate = model.travel_seconds(origins=origins, destination=pool[picks[-1]], at=PEAK)
        timings.append(time.perf_counter() - started)
        for method in estimate.method:
            methods[method] = methods.get(method, 0) + 1
    ms = np.array(timings) * 1000
    p50, p99 = np.percentile(ms, [50, 99])
    mix = ", ".join(f"{name} {count / (queries * UNITS):.0%}" for name, count in methods.items())
    print(f"{label:<34} {queries:>5} queries  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({mix})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="50 queries, for CI")
    parser.add_argument("--extract", type=Path, action="append", help="OSM extract(s) to load")
    args = parser.parse_args()
    queries = 50 if args.smoke else 1_000

    os.environ.setdefault("CITYHEALTH_DATABASE_URL", "sqlite:///:memory:")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
    from cityhealth.emergency.routing import TravelModel

    started = time.perf_counter()
    model = TravelModel.load(extracts=args.extract)
    load_s = time.perf_counter() - started
    nodes = sum(road.node_count for road in model.roads)
    print(
        f"load: {load_s:.2f} s ({len(model.wards.codes)} wards, {len(model.roads)} extract(s), "
        f"{nodes:,} road nodes); {UNITS} units per query, {model.traffic.band_at(PEAK).label}"
    )
    _run("city-wide points", model, queries, CITY_BOX, seed=1)
    _run("central points (street graph)", model, queries, CENTRAL_BOX, seed=2)


if __name__ == "__main__":
    main()
