"""Merging the shape nodes of the street graph changes no travel time and no drawn route.

A hand-built network holds each case the merge must respect (a plain chain, a change from
two-way to one-way, a change of road class, a loop back to its junction, two routes between the
same junctions, a dead end, a ring touching nothing); every pair of its nodes is compared with a
plain Dijkstra over the segments. On the shipped extract, thousands of random trips at five
times of the week are compared with the model that keeps every node.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from cityhealth.core.datafiles import data_path
from cityhealth.emergency.routing import TravelModel, Vehicle
from cityhealth.emergency.routing.geometry import haversine_m, to_latlon
from cityhealth.emergency.routing.osm import RoadNetwork
from cityhealth.emergency.routing.roads import RoadGraph
from cityhealth.emergency.routing.traffic import Band, TrafficTable

HANOI = timezone(timedelta(hours=7))
TIMES = [
    datetime(2025, 10, 15, 3, 0, tzinfo=HANOI),  # Wednesday night
    datetime(2025, 10, 15, 7, 45, tzinfo=HANOI),  # morning peak
    datetime(2025, 10, 15, 12, 0, tzinfo=HANOI),
    datetime(2025, 10, 15, 17, 45, tzinfo=HANOI),  # evening peak
    datetime(2025, 10, 18, 7, 45, tzinfo=HANOI),  # Saturday morning
]
CENTRAL_BOX = (21.012, 21.038, 105.817, 105.858)  # inside the shipped extract

# Positions in metres east and north of Hoàn Kiếm lake.
_NODES = {
    "J1": (0, 0),
    "c1": (100, 10),
    "c2": (200, 15),
    "c3": (300, 10),
    "J2": (400, 0),
    "s1": (200, -80),
    "o1": (400, 100),
    "o2": (400, 200),
    "o3": (400, 300),
    "J3": (400, 400),
    "p1": (300, 400),
    "p2": (200, 400),
    "p3": (100, 400),
    "J4": (0, 400),
    "q1": (0, 300),
    "q2": (0, 200),
    "q3": (0, 100),
    "r1": (-100, -50),
    "r2": (-200, -100),
    "r3": (-250, -200),
    "r4": (-150, -250),
    "r5": (-50, -150),
    "d1": (500, 0),
    "d2": (600, 0),
    "i1": (2000, 0),
    "i2": (2100, 0),
    "i3": (2150, 80),
    "i4": (2100, 160),
    "i5": (2000, 160),
    "i6": (1950, 80),
}
# (nodes, class, one-way for cars, one-way for motorbikes)
_WAYS = [
    (["J1", "c1", "c2", "c3", "J2"], "residential", False, False),  # a plain chain...
    (["J1", "s1", "J2"], "residential", False, False),  # ...and a second way between its ends
    (["J2", "o1"], "residential", False, False),
    (["o1", "o2", "o3", "J3"], "residential", True, False),  # one-way for cars from o1
    (["J3", "p1", "p2"], "primary", False, False),
    (["p2", "p3", "J4"], "residential", False, False),  # the class changes at p2
    (["J4", "q1", "q2", "q3", "J1"], "tertiary", False, False),
    (["J1", "r1", "r2", "r3", "r4", "r5", "J1"], "residential", False, False),  # back to J1
    (["J2", "d1", "d2"], "residential", False, False),  # a dead end
    (["i1", "i2", "i3", "i4", "i5", "i6", "i1"], "residential", False, False),  # on its own
]
# o1 stays for cars only: motorbikes may ride the one-way street both ways. Of two routes
# between the same junctions, each keeps its middle node; a loop keeps two nodes, a third of
# the way round; a ring keeps its first node, then two more as a loop from it.
_KEPT_FOR_CARS = {"J1", "J2", "o1", "J3", "p2", "J4", "c2", "s1", "r2", "r4", "d2"}
_KEPT_FOR_CARS |= {"i1", "i3", "i5"}


@pytest.fixture(scope="module")
def traffic() -> TrafficTable:
    return TrafficTable.from_file(data_path("emergency", "traffic.json"))


def _network() -> RoadNetwork:
    names = list(_NODES)
    index = {name: i for i, name in enumerate(names)}
    lat, lon = to_latlon([_NODES[n][0] for n in names], [_NODES[n][1] for n in names])
    tail, head, classes, car, bike = [], [], [], [], []
    for refs, road_class, car_one_way, bike_one_way in _WAYS:
        for a, b in itertools.pairwise(refs):
            for t, h, forward in ((a, b, True), (b, a, False)):
                tail.append(index[t])
                head.append(index[h])
                classes.append(road_class)
                car.append(forward or not car_one_way)
                bike.append(forward or not bike_one_way)
    tail_a, head_a = np.array(tail), np.array(head)
    return RoadNetwork(
        source="hand-built",
        lat=lat,
        lon=lon,
        tail=tail_a,
        head=head_a,
        metres=haversine_m(lat[tail_a], lon[tail_a], lat[head_a], lon[head_a]),
        road_class=tuple(classes),
        car=np.array(car),
        motorbike=np.array(bike),
    )


def _reference_seconds(network, traffic, vehicle, band, dest: int) -> np.ndarray:
    """A plain Dijkstra over the segments: seconds from every node to `dest`."""
    allowed = network.car if vehicle is Vehicle.CAR else network.motorbike
    index = traffic.roads.index()
    speeds = traffic.roads.speeds_mps(vehicle, band)
    classes = np.array([index[c] for c in network.road_class])[allowed]
    seconds = network.metres[allowed] / speeds[classes]
    n = len(network.lat)
    reverse = csr_array((seconds, (network.head[allowed], network.tail[allowed])), shape=(n, n))
    times: np.ndarray = dijkstra(reverse, directed=True, indices=dest)
    return times


def _bands(traffic: TrafficTable) -> list[Band]:
    return [band for bands in traffic.bands.values() for band in bands]


def test_the_merge_keeps_junctions_changes_and_one_node_per_loop(traffic):
    road = RoadGraph(_network(), traffic=traffic, min_component_nodes=1)
    names = list(_NODES)
    assert {names[i] for i in road.routing_nodes(Vehicle.CAR)} == _KEPT_FOR_CARS
    assert {names[i] for i in road.routing_nodes(Vehicle.MOTORBIKE)} == _KEPT_FOR_CARS - {"o1"}
    assert road.routing_size(Vehicle.CAR) == (14, 31)
    assert road.routing_size(Vehicle.MOTORBIKE) == (13, 30)
    full = RoadGraph(_network(), traffic=traffic, min_component_nodes=1, merge=False)
    assert full.routing_size(Vehicle.CAR) == (30, 61)


@pytest.mark.parametrize("vehicle", list(Vehicle))
def test_every_time_and_route_on_a_hand_built_network_is_unchanged(traffic, vehicle):
    network = _network()
    merged = RoadGraph(network, traffic=traffic, min_component_nodes=1)
    full = RoadGraph(network, traffic=traffic, min_component_nodes=1, merge=False)
    every = (merged.x, merged.y)
    segments = set(zip(network.tail.tolist(), network.head.tolist(), strict=True))
    for band in _bands(traffic):
        for dest in range(len(_NODES)):
            point = (float(merged.x[dest]), float(merged.y[dest]))
            trip = merged.trip(vehicle=vehicle, band=band, origin_xy=every, dest_xy=point)
            plain = full.trip(vehicle=vehicle, band=band, origin_xy=every, dest_xy=point)
            expected = _reference_seconds(network, traffic, vehicle, band, dest)
            np.testing.assert_allclose(trip.seconds, expected, rtol=1e-12)
            np.testing.assert_allclose(plain.seconds, expected, rtol=1e-12)
            np.testing.assert_allclose(trip.metres, plain.metres, rtol=1e-12)
            for origin in np.flatnonzero(np.isfinite(expected)):
                path = merged.node_path(trip, int(origin))
                assert path == full.node_path(plain, int(origin))
                assert path[0] == origin
                assert path[-1] == dest
                assert set(itertools.pairwise(path)) <= segments


def test_a_point_between_nodes_snaps_as_before(traffic):
    """Points off the nodes (and off the street) snap to the same node with the same leg."""
    network = _network()
    merged = RoadGraph(network, traffic=traffic, min_component_nodes=1)
    full = RoadGraph(network, traffic=traffic, min_component_nodes=1, merge=False)
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(-200, 700, 300), rng.uniform(-200, 500, 300)
    band = _bands(traffic)[0]
    for dest in zip(xs[:30].tolist(), ys[:30].tolist(), strict=True):
        trip = merged.trip(vehicle=Vehicle.CAR, band=band, origin_xy=(xs, ys), dest_xy=dest)
        plain = full.trip(vehicle=Vehicle.CAR, band=band, origin_xy=(xs, ys), dest_xy=dest)
        np.testing.assert_array_equal(trip.origin_node, plain.origin_node)
        np.testing.assert_allclose(trip.seconds, plain.seconds, rtol=1e-12)
        np.testing.assert_allclose(trip.metres, plain.metres, rtol=1e-12)


# -- the shipped extract -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def models() -> tuple[TravelModel, TravelModel]:
    return TravelModel.shared(), TravelModel.load(merge=False)


def test_the_shipped_extract_shrinks_to_its_junctions(models):
    merged, full = models
    for vehicle in Vehicle:
        nodes, edges = merged.roads[0].routing_size(vehicle)
        full_nodes, full_edges = full.roads[0].routing_size(vehicle)
        assert full_nodes > 4_000
        assert nodes < 0.3 * full_nodes
        assert edges < 0.4 * full_edges


def test_random_trips_on_the_shipped_extract_take_the_same_time(models):
    merged, full = models
    rng = np.random.default_rng(20251015)
    lat = rng.uniform(CENTRAL_BOX[0], CENTRAL_BOX[1], 800)
    lon = rng.uniform(CENTRAL_BOX[2], CENTRAL_BOX[3], 800)
    points = list(zip(lat.tolist(), lon.tolist(), strict=True))
    by_road = 0
    for at in TIMES:
        for vehicle in Vehicle:
            for _ in range(8):
                picks = rng.choice(len(points), 51, replace=False)
                origins, dest = [points[i] for i in picks[:50]], points[picks[50]]
                a = merged.travel_seconds(origins=origins, destination=dest, at=at, vehicle=vehicle)
                b = full.travel_seconds(origins=origins, destination=dest, at=at, vehicle=vehicle)
                assert a.method == b.method
                np.testing.assert_allclose(a.seconds, b.seconds, rtol=1e-12)
                np.testing.assert_allclose(a.metres, b.metres, rtol=1e-9)
                by_road += a.method.count("road")
    assert by_road > 0.9 * len(TIMES) * len(Vehicle) * 8 * 50


def test_routes_on_the_shipped_extract_follow_the_same_streets(models):
    merged, full = models
    rng = np.random.default_rng(3)
    drawn = 0
    for _ in range(40):
        lat = rng.uniform(CENTRAL_BOX[0], CENTRAL_BOX[1], 2)
        lon = rng.uniform(CENTRAL_BOX[2], CENTRAL_BOX[3], 2)
        origin, dest = (float(lat[0]), float(lon[0])), (float(lat[1]), float(lon[1]))
        a = merged.route(origin, dest, at=TIMES[3])
        b = full.route(origin, dest, at=TIMES[3])
        assert a.method == b.method
        assert a.points == b.points
        assert a.seconds == pytest.approx(b.seconds, rel=1e-12)
        drawn += a.method == "road" and len(a.points) > 10
    assert drawn >= 30
