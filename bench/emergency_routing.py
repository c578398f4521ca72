"""Travel-time queries for 115 dispatch: one incident, 100 units, at the evening peak.

    .venv/bin/python bench/emergency_routing.py             # 1,000 queries a line
    .venv/bin/python bench/emergency_routing.py --smoke     # 50 queries, small tiling; for CI
    .venv/bin/python bench/emergency_routing.py --extract city.osm.pbf   # an operator's extract

Prints the model's load time and p50/p99 of `travel_seconds` for 100 random origins and a random
destination: points across the city (mostly the ward graph), then points inside the street
extract and inside a larger street graph, each twice: over every node of the extract ("full",
as before the shape nodes were merged) and over the merged graph ("merged"). The two answer the
same queries alternately in the same run; the largest relative difference of their times is
printed with the figures.

No city-wide extract ships with the project, so the larger graph is synthetic: the central
extract copied onto a grid of tiles around the centre (4 × 5 tiles, 91,440 nodes: about a full
Hà Nội drive network), with a two-way secondary road wherever nodes of two tiles are less than
25 m apart. Its shape nodes are real ones, so it merges as the central extract does.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cityhealth.emergency.routing import TravelModel
    from cityhealth.emergency.routing.osm import RoadNetwork

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

UNITS = 100
HANOI = timezone(timedelta(hours=7))
PEAK = datetime(2025, 10, 15, 17, 45, tzinfo=HANOI)  # a Wednesday, evening peak
CITY_BOX = (20.56, 21.39, 105.28, 106.02)
CENTRAL_BOX = (21.012, 21.038, 105.817, 105.858)  # inside the shipped central extract
CENTRAL_EXTRACT = ROOT / "data" / "geo" / "hanoi_central_drive_2023-12.osm"
JOIN_M = 25.0


def _points_in_city(
    model: TravelModel, rng: np.random.Generator, count: int, box: tuple[float, ...]
) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lat, lon = rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])
        if model.ward_of(lat, lon) is not None:
            points.append((float(lat), float(lon)))
    return points


def _line(label: str, queries: int, timings: list[float], extra: str) -> float:
    p50, p99 = np.percentile(np.array(timings) * 1000, [50, 99])
    print(f"{label:<34} {queries:>5} queries  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({extra})")
    return float(p50)


def _run(
    label: str, models: dict[str, TravelModel], queries: int, box: tuple[float, ...], seed: int
) -> None:
    """Time every model on the same queries, taking turns, and compare their answers."""
    rng = np.random.default_rng(seed)
    first = next(iter(models.values()))
    pool = _points_in_city(first, rng, 2_000, box)
    for model in models.values():  # warm the per-band caches
        model.travel_seconds(origins=pool[:UNITS], destination=pool[-1], at=PEAK)
    timings: dict[str, list[float]] = {name: [] for name in models}
    methods: dict[str, int] = {}
    worst = 0.0
    for query in range(queries):
        picks = rng.choice(len(pool), UNITS + 1, replace=False)
        origins = [pool[i] for i in picks[:UNITS]]
        names = list(models)[query % len(models) :] + list(models)[: query % len(models)]
        answers = []
        for name in names:
            started = time.perf_counter()
            estimate = models[name].travel_seconds(
                origins=origins, destination=pool[picks[-1]], at=PEAK
            )
            timings[name].append(time.perf_counter() - started)
            answers.append(estimate.seconds)
        for method in estimate.method:
            methods[method] = methods.get(method, 0) + 1
        worst = max(worst, *(float(np.max(np.abs(a / answers[0] - 1))) for a in answers))
    mix = ", ".join(f"{name} {count / (queries * UNITS):.0%}" for name, count in methods.items())
    p50 = {
        name: _line(label if len(models) == 1 else f"{label}, {name}", queries, timings[name], mix)
        for name in models
    }
    if len(models) > 1:
        full, merged = p50["full"], p50["merged"]
        print(f"{'':<34} merged/full p50 {merged / full:.2f}; times differ by {worst:.1e} at most")


def _sizes(label: str, models: dict[str, TravelModel], seconds: dict[str, float]) -> None:
    """Nodes and directed edges Dijkstra runs over (cars), and the time to build them."""
    from cityhealth.emergency.routing import Vehicle

    parts = []
    for name, model in models.items():
        sizes = [road.routing_size(Vehicle.CAR) for road in model.roads]
        nodes, edges = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
        parts.append(f"{name} {nodes:,} nodes / {edges:,} edges in {seconds[name]:.2f} s")
    print(f"{label}: " + ", ".join(parts))


def _tiled(network: RoadNetwork, rows: int, cols: int) -> RoadNetwork:
    """The extract copied onto a rows × cols grid of tiles, neighbouring tiles joined."""
    from scipy.spatial import cKDTree

    from cityhealth.emergency.routing.geometry import haversine_m, to_latlon, to_xy
    from cityhealth.emergency.routing.osm import RoadNetwork

    n = len(network.lat)
    x, y = to_xy(network.lat, network.lon)
    # The pitch is the extract's extent without its few outlying nodes, so tiles meet.
    (x0, x1), (y0, y1) = np.percentile(x, [2, 98]), np.percentile(y, [2, 98])
    tiles = [(r - (rows - 1) / 2, c - (cols - 1) / 2) for r in range(rows) for c in range(cols)]
    tx = np.concatenate([x + c * (x1 - x0) for _, c in tiles])
    ty = np.concatenate([y + r * (y1 - y0) for r, _ in tiles])
    tile = np.repeat(np.arange(len(tiles)), n)
    pairs = cKDTree(np.column_stack([tx, ty])).query_pairs(JOIN_M, output_type="ndarray")
    pairs = pairs[tile[pairs[:, 0]] != tile[pairs[:, 1]]]
    offsets = np.arange(len(tiles)) * n
    tail = np.concatenate([*(network.tail + k for k in offsets), pairs[:, 0], pairs[:, 1]])
    head = np.concatenate([*(network.head + k for k in offsets), pairs[:, 1], pairs[:, 0]])
    lat, lon = to_latlon(tx, ty)
    joins = np.ones(2 * len(pairs), dtype=bool)
    return RoadNetwork(
        source=f"{network.source} × {rows * cols} tiles",
        lat=lat,
        lon=lon,
        tail=tail,
        head=head,
        metres=haversine_m(lat[tail], lon[tail], lat[head], lon[head]),
        road_class=network.road_class * len(tiles) + ("secondary",) * len(joins),
        car=np.concatenate([*(network.car for _ in tiles), joins]),
        motorbike=np.concatenate([*(network.motorbike for _ in tiles), joins]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="50 queries, 2 × 2 tiles, for CI")
    parser.add_argument("--extract", type=Path, action="append", help="OSM extract(s) to load")
    args = parser.parse_args()
    queries = 50 if args.smoke else 1_000
    rows, cols = (2, 2) if args.smoke else (4, 5)

    os.environ.setdefault("CITYHEALTH_DATABASE_URL", "sqlite:///:memory:")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityhealth.settings")
    from cityhealth.emergency.routing import TravelModel
    from cityhealth.emergency.routing.osm import read_extract
    from cityhealth.emergency.routing.roads import RoadGraph

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    started = time.perf_counter()
    model = TravelModel.load(extracts=args.extract)
    load_s = time.perf_counter() - started
    nodes = sum(road.node_count for road in model.roads)
    print(
        f"load: {load_s:.2f} s ({len(model.wards.codes)} wards, {len(model.roads)} extract(s), "
        f"{nodes:,} road nodes); {UNITS} units per query, {model.traffic.band_at(PEAK).label}"
    )
    _run("city-wide points", {"model": model}, queries, CITY_BOX, seed=1)

    started = time.perf_counter()
    full = TravelModel.load(extracts=args.extract, merge=False)
    central = {"full": full, "merged": model}
    loaded = {"full": time.perf_counter() - started, "merged": load_s}
    _sizes("extract(s), car graph, model load", central, loaded)
    _run("central points", central, queries, CENTRAL_BOX, seed=2)

    network = _tiled(read_extract(CENTRAL_EXTRACT), rows, cols)
    tiled: dict[str, TravelModel] = {}
    built: dict[str, float] = {}
    for name, merge in (("full", False), ("merged", True)):
        started = time.perf_counter()
        road = RoadGraph(network, traffic=model.traffic, merge=merge)
        built[name] = time.perf_counter() - started
        tiled[name] = TravelModel(wards=model.wards, roads=[road], traffic=model.traffic)
    _sizes(f"synthetic {rows} × {cols} tiles, car graph, build", tiled, built)
    # Inside the tiles, not their few outlying nodes: nearly every point is on the streets.
    box = (*np.percentile(network.lat, [2, 98]), *np.percentile(network.lon, [2, 98]))
    _run("tiled points", tiled, queries, box, seed=3)


if __name__ == "__main__":
    main()
