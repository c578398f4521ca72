"""Travel-time model: the ward graph, the street graph of central Hà Nội, congestion, alleys,
bad input and the fallbacks. No database: the model is built from the files in data/."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from scipy.sparse.csgraph import connected_components

from cityhealth.core.errors import InvalidInput
from cityhealth.emergency.routing import Access, RoutingError, TravelModel, Vehicle
from cityhealth.emergency.routing.osm import RoadNetwork, read_extract
from cityhealth.emergency.routing.roads import RoadGraph
from cityhealth.emergency.routing.traffic import TrafficTable
from cityhealth.emergency.routing.wards import WardArea, WardGraph

HANOI = timezone(timedelta(hours=7))
NIGHT = datetime(2025, 10, 15, 3, 0, tzinfo=HANOI)  # a Wednesday
MORNING_PEAK = datetime(2025, 10, 15, 7, 45, tzinfo=HANOI)
EVENING_PEAK = datetime(2025, 10, 15, 17, 45, tzinfo=HANOI)
SATURDAY_MORNING = datetime(2025, 10, 18, 7, 45, tzinfo=HANOI)

HOAN_KIEM_LAKE = (21.0287, 105.8524)
HA_DONG = (20.9713, 105.7788)  # Hà Đông ward's point
# Inside the shipped central extract: Xanh Pôn and Việt Đức hospitals (approximate).
XANH_PON = (21.0338, 105.8219)
VIET_DUC = (21.0283, 105.8462)
# Phố Lý Nam Đế is one-way for every vehicle, north to south.
LY_NAM_DE_NORTH = (21.038636, 105.845718)
LY_NAM_DE_SOUTH = (21.031224, 105.844167)
HO_CHI_MINH_CITY = (10.7769, 106.7009)


@pytest.fixture(scope="module")
def model() -> TravelModel:
    return TravelModel.shared()


def _one(model: TravelModel, origin, destination, *, at=NIGHT, vehicle=Vehicle.CAR, access=None):
    estimate = model.travel_seconds(
        origins=[origin], destination=destination, at=at, vehicle=vehicle, access=access
    )
    return float(estimate.seconds[0]), float(estimate.metres[0]), estimate.method[0], estimate


# -- ward graph ----------------------------------------------------------------------------------


def test_every_ward_has_a_neighbour_and_the_city_graph_is_connected(model):
    wards = model.wards
    assert len(wards.codes) == 126
    degree = wards.adjacent.sum(axis=1) - 1
    assert degree.min() >= 1
    assert connected_components(wards.adjacent, directed=False)[0] == 1


def test_ward_of_finds_the_polygon(model):
    assert model.ward_of(*HOAN_KIEM_LAKE) == "00070"
    assert model.ward_of(*HA_DONG) == "09556"
    assert model.ward_of(*HO_CHI_MINH_CITY) is None


def test_hoan_kiem_to_ha_dong_is_plausible_and_slower_at_the_peak(model):
    night, metres, method, _ = _one(model, HOAN_KIEM_LAKE, HA_DONG)
    peak, _, _, estimate = _one(model, HOAN_KIEM_LAKE, HA_DONG, at=EVENING_PEAK)
    assert method == "ward_graph"
    assert 11_000 < metres < 20_000  # ≈ 10 km as the crow flies
    assert 15 * 60 < night < 40 * 60
    assert night * 1.5 < peak < 90 * 60
    assert estimate.band == "weekday evening peak"


def test_weekend_mornings_are_not_peaks(model):
    weekday, *_ = _one(model, HOAN_KIEM_LAKE, HA_DONG, at=MORNING_PEAK)
    saturday, *_ = _one(model, HOAN_KIEM_LAKE, HA_DONG, at=SATURDAY_MORNING)
    assert saturday < weekday


def test_an_aware_time_is_read_in_hanoi_time(model):
    assert model.traffic.band_at(datetime(2025, 10, 15, 10, 45, tzinfo=UTC)).name == "evening peak"


# -- street graph --------------------------------------------------------------------------------


def test_the_street_graph_answers_inside_the_central_extract(model):
    seconds, metres, method, _ = _one(model, XANH_PON, VIET_DUC)
    assert method == "road"
    assert 2_600 < metres < 4_500  # 2.5 km apart
    assert 3 * 60 < seconds < 12 * 60


def test_motorbike_beats_car_at_the_peak_in_the_centre(model):
    car, *_ = _one(model, XANH_PON, VIET_DUC, at=MORNING_PEAK)
    bike, _, method, _ = _one(model, XANH_PON, VIET_DUC, at=MORNING_PEAK, vehicle=Vehicle.MOTORBIKE)
    assert method == "road"
    assert bike < car * 0.85


def test_a_one_way_street_is_not_driven_backwards(model):
    along, along_m, method, _ = _one(model, LY_NAM_DE_NORTH, LY_NAM_DE_SOUTH)
    against, against_m, *_ = _one(model, LY_NAM_DE_SOUTH, LY_NAM_DE_NORTH)
    assert method == "road"
    assert along_m < 1_000  # 0.8 km down the street itself
    assert against_m > along_m + 500  # around the block
    assert against > along * 1.5


def test_one_query_answers_many_origins(model):
    origins = [XANH_PON, LY_NAM_DE_NORTH, HA_DONG, HOAN_KIEM_LAKE]
    estimate = model.travel_seconds(origins=origins, destination=VIET_DUC, at=EVENING_PEAK)
    assert estimate.method == ("road", "road", "ward_graph", "road")
    assert estimate.seconds.shape == (4,)
    assert np.isfinite(estimate.seconds).all()
    assert estimate.seconds[2] == estimate.seconds.max()
    assert model.travel_seconds(origins=[], destination=VIET_DUC, at=NIGHT).seconds.size == 0


def test_route_draws_a_street_polyline(model):
    route = model.route(XANH_PON, VIET_DUC, at=NIGHT)
    assert route.method == "road"
    assert len(route.points) > 10
    assert route.points[0] == pytest.approx(XANH_PON)
    assert route.points[-1] == pytest.approx(VIET_DUC)
    city = model.route(HA_DONG, HOAN_KIEM_LAKE, at=NIGHT, vehicle=Vehicle.MOTORBIKE)
    assert city.method == "ward_graph"
    assert len(city.points) >= 3


# -- alleys --------------------------------------------------------------------------------------


def test_an_alley_costs_a_car_crew_a_walk_and_a_motorbike_less(model):
    alley = Access(car_reachable=False, walk_metres=200)
    car, *_ = _one(model, XANH_PON, VIET_DUC)
    car_alley, car_alley_m, *_ = _one(model, XANH_PON, VIET_DUC, access=alley)
    bike, *_ = _one(model, XANH_PON, VIET_DUC, vehicle=Vehicle.MOTORBIKE)
    bike_alley, *_ = _one(model, XANH_PON, VIET_DUC, vehicle=Vehicle.MOTORBIKE, access=alley)
    walk = car_alley - car
    ride = bike_alley - bike
    assert walk == pytest.approx(200 / model.traffic.walk_with_kit_mps)
    assert 0 < ride < walk / 2
    assert car_alley_m > 200


# -- bad input and fallbacks ---------------------------------------------------------------------


def test_a_destination_outside_the_city_is_refused(model):
    with pytest.raises(InvalidInput) as caught:
        model.travel_seconds(origins=[XANH_PON], destination=HO_CHI_MINH_CITY, at=NIGHT)
    assert caught.value.code == "routing.outside_city"
    assert "ngoài địa bàn" in caught.value.message("vi")
    assert "outside the city" in caught.value.message("en")


@pytest.mark.parametrize("point", [(math.nan, 105.8), (95.0, 105.8), ("a", "b")])
def test_nonsense_coordinates_are_refused(model, point):
    with pytest.raises(InvalidInput) as caught:
        model.travel_seconds(origins=[point], destination=VIET_DUC, at=NIGHT)
    assert caught.value.code == "routing.invalid_coordinates"


def test_a_negative_walk_is_refused(model):
    with pytest.raises(InvalidInput) as caught:
        _one(model, XANH_PON, VIET_DUC, access=Access(car_reachable=False, walk_metres=-5))
    assert caught.value.code == "routing.invalid_access"


def test_a_unit_outside_the_city_gets_a_straight_line(model):
    bac_ninh = (21.186, 106.076)
    seconds, _, method, estimate = _one(model, bac_ninh, HOAN_KIEM_LAKE)
    assert method == "straight_line"
    assert math.isfinite(seconds)
    assert [note.code for note in estimate.notes] == ["routing.origin_outside_city"]


def test_a_street_graph_failure_falls_back_to_the_ward_graph(model, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("corrupt graph")

    monkeypatch.setattr(RoadGraph, "trip", broken)
    seconds, _, method, estimate = _one(model, XANH_PON, VIET_DUC)
    assert method == "ward_graph"
    assert math.isfinite(seconds)
    assert [note.code for note in estimate.notes] == ["routing.model_failed"]


def _box(lat: float, lon: float, size: float = 0.01):
    return shapely.box(lon, lat, lon + size, lat + size)


def test_wards_without_a_path_fall_back_to_a_straight_line(model):
    """Two wards with a gap between them: no ward path, so straight line × circuity."""
    areas = [
        WardArea("A", "A", "phường", 50_000, 1.2, 21.035, 105.805, _box(21.03, 105.80)),
        WardArea("B", "B", "phường", 50_000, 1.2, 21.035, 105.835, _box(21.03, 105.83)),
    ]
    traffic = model.traffic
    isolated = TravelModel(
        wards=WardGraph.from_areas(areas, traffic=traffic), roads=[], traffic=traffic
    )
    origin, destination = (21.035, 105.805), (21.035, 105.835)
    seconds, metres, method, estimate = _one(isolated, origin, destination)
    assert method == "straight_line"
    assert [note.code for note in estimate.notes] == ["routing.no_ward_path"]
    assert metres == pytest.approx(3_115 * traffic.circuity, rel=0.01)
    assert math.isfinite(seconds)


# -- reading extracts ----------------------------------------------------------------------------

# A square of two-way residential streets near Hoàn Kiếm lake (~220 m a side), a one-way primary
# leaving its corner, then a motorway (no motorbikes), a parking aisle and a footway (ignored),
# and a second square 2 km west that no street joins to the first.
_NODES = {
    1: (21.0300, 105.8500),
    2: (21.0300, 105.8521),
    3: (21.0320, 105.8521),
    4: (21.0320, 105.8500),
    5: (21.0340, 105.8500),
    6: (21.0360, 105.8500),
    7: (21.0310, 105.8510),
    11: (21.0300, 105.8300),
    12: (21.0300, 105.8321),
    13: (21.0320, 105.8321),
    14: (21.0320, 105.8300),
}
_WAYS = [
    (101, [1, 2, 3, 4, 1], {"highway": "residential"}),
    (102, [4, 5], {"highway": "primary", "oneway": "yes"}),
    (103, [5, 6], {"highway": "motorway"}),
    (104, [1, 7], {"highway": "service", "service": "parking_aisle"}),
    (105, [2, 7], {"highway": "footway"}),
    (106, [11, 12, 13, 14, 11], {"highway": "residential"}),
]


def _write_osm(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node_id, (lat, lon) in _NODES.items():
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat}" lon="{lon}"/>')
    for way_id, refs, tags in _WAYS:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f'    <tag k="{key}" v="{value}"/>' for key, value in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _write_pbf(path: Path) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for node_id, (lat, lon) in _NODES.items():
            writer.add_node(osmium.osm.mutable.Node(id=node_id, version=1, location=(lon, lat)))
        for way_id, refs, tags in _WAYS:
            writer.add_way(osmium.osm.mutable.Way(id=way_id, version=1, nodes=refs, tags=tags))
    return path


def _segments(network: RoadNetwork, vehicle_flags: np.ndarray) -> set[tuple[int, int]]:
    ids = dict(enumerate(_node_ids(network)))
    return {
        (ids[int(t)], ids[int(h)])
        for t, h, ok in zip(network.tail, network.head, vehicle_flags, strict=True)
        if ok
    }


def _node_ids(network: RoadNetwork) -> list[int]:
    """Node ids in index order, recovered from the coordinates of the hand-written nodes."""
    by_point = {(round(lat, 6), round(lon, 6)): node_id for node_id, (lat, lon) in _NODES.items()}
    return [
        by_point[(round(lat, 6), round(lon, 6))]
        for lat, lon in zip(network.lat, network.lon, strict=True)
    ]


@pytest.mark.parametrize("writer", [_write_osm, _write_pbf], ids=["osm", "pbf"])
def test_an_extract_is_read_with_one_ways_and_vehicle_rules(tmp_path, writer):
    suffix = ".osm" if writer is _write_osm else ".osm.pbf"
    network = read_extract(writer(tmp_path / f"tiny{suffix}"))
    assert len(network.lat) == 10  # node 7 is only on ignored ways
    car = _segments(network, network.car)
    bike = _segments(network, network.motorbike)
    assert {(1, 2), (2, 1), (4, 5)} <= car
    assert (5, 4) not in car
    assert (5, 6) in car
    assert (5, 6) not in bike
    assert (4, 5) in bike
    assert network.metres[0] == pytest.approx(218, rel=0.02)


def test_a_pbf_extract_is_loaded_by_the_model(tmp_path):
    extract = _write_pbf(tmp_path / "tiny.osm.pbf")
    tiny = TravelModel.load(extracts=[extract], min_component_nodes=3)
    assert [road.source for road in tiny.roads] == ["tiny.osm.pbf"]
    _, metres, method, _ = _one(tiny, (21.0300, 105.8500), (21.0320, 105.8521))
    assert method == "road"
    assert metres == pytest.approx(218 + 222, rel=0.05)  # two sides of the square


def test_streets_that_do_not_join_fall_back_to_the_ward_graph(model, tmp_path):
    network = read_extract(_write_osm(tmp_path / "tiny.osm"))
    road = RoadGraph(network, traffic=model.traffic, min_component_nodes=3)
    split = TravelModel(wards=model.wards, roads=[road], traffic=model.traffic)
    west, east = (21.0310, 105.8310), (21.0310, 105.8510)
    seconds, _, method, estimate = _one(split, west, east)
    assert method == "ward_graph"
    assert math.isfinite(seconds)
    assert [note.code for note in estimate.notes] == ["routing.no_road_path"]


def test_a_missing_extract_or_traffic_table_is_a_clear_error(tmp_path):
    with pytest.raises(RoutingError) as caught:
        read_extract(tmp_path / "missing.osm.pbf")
    assert caught.value.code == "routing.model_unavailable"
    bad = tmp_path / "traffic.json"
    bad.write_text('{"road_classes": {}}', encoding="utf-8")
    with pytest.raises(RoutingError):
        TrafficTable.from_file(bad)
