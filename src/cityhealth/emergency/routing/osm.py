"""Reading a drive network from an OpenStreetMap extract (`.osm` XML or `.osm.pbf`).

Every way with a drivable `highway` tag becomes directed segments between consecutive nodes,
each flagged with the vehicles allowed along it: one-way rules are read per vehicle
(`oneway:motorcycle=no` is common in central Hà Nội: motorbikes may ride both ways where cars
may not), and motorbikes are kept off motorways (Vietnam's expressways ban them). Time-conditional
restrictions (`motor_vehicle:conditional`, the weekend walking streets) are ignored: an ambulance
on an emergency run is let through.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
from numpy.typing import NDArray

from cityhealth.emergency.routing.errors import model_unavailable
from cityhealth.emergency.routing.geometry import FloatArray, haversine_m

# highway=* values an ambulance can drive on, mapped to the road classes of traffic.json.
DRIVABLE = {
    "motorway": "motorway",
    "motorway_link": "motorway_link",
    "trunk": "trunk",
    "trunk_link": "trunk_link",
    "primary": "primary",
    "primary_link": "primary_link",
    "secondary": "secondary",
    "secondary_link": "secondary_link",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary_link",
    "unclassified": "unclassified",
    "road": "unclassified",
    "residential": "residential",
    "living_street": "living_street",
    "service": "service",
}
# Service roads that lead nowhere useful (parking lots) or behind a gate.
_SERVICE_EXCLUDED = {"parking_aisle", "parking", "private"}
_YES = {"yes", "true", "1"}
_REVERSE = {"-1", "reverse"}
_ALLOWED = {"yes", "designated", "destination", "permissive", "emergency"}
_FORBIDDEN = {"no", "private"}


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes (WGS 84) and directed segments of a drive network, as plain arrays."""

    source: str
    lat: FloatArray
    lon: FloatArray
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    metres: FloatArray
    road_class: tuple[str, ...]  # per segment, a key of DRIVABLE's values
    car: NDArray[np.bool_]
    motorbike: NDArray[np.bool_]


def read_extract(path: Path) -> RoadNetwork:
    """The drive network of an extract; raises RoutingError when it cannot be read."""
    try:
        return _read(path)
    except (OSError, RuntimeError, ValueError) as error:
        raise model_unavailable(
            what_en=f"road extract {path.name} unreadable ({error})",
            what_vi=f"không đọc được dữ liệu đường {path.name} ({error})",
        ) from error


def _read(path: Path) -> RoadNetwork:
    if not path.is_file():
        raise OSError(f"no such file: {path}")
    index: dict[int, int] = {}
    lats: list[float] = []
    lons: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    classes: list[str] = []
    car: list[bool] = []
    bike: list[bool] = []
    # Node locations are cached before the filters run, so ways arrive with coordinates.
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {tag.k: tag.v for tag in way.tags}
        road_class = DRIVABLE.get(tags["highway"])
        if road_class is None or not _drivable(tags):
            continue
        car_ok = _allowed(tags, ("motorcar", "motor_vehicle"))
        bike_ok = _allowed(tags, ("motorcycle", "motor_vehicle"))
        if tags["highway"].startswith("motorway") and tags.get("motorcycle") not in _ALLOWED:
            bike_ok = False
        if not (car_ok or bike_ok):
            continue
        car_dir = _direction(tags, ("oneway:motorcar", "oneway:motor_vehicle", "oneway"))
        bike_dir = _direction(tags, ("oneway:motorcycle", "oneway:motor_vehicle", "oneway"))
        refs = []
        for node in way.nodes:
            if not node.location.valid():
                continue  # a node outside the extract: the way is cut there
            if node.ref not in index:
                index[node.ref] = len(lats)
                lats.append(node.location.lat)
                lons.append(node.location.lon)
            refs.append(index[node.ref])
        for a, b in itertools.pairwise(refs):
            if a == b:
                continue
            for tail, head, forward in ((a, b, True), (b, a, False)):
                on_car = car_ok and _permits(car_dir, forward=forward)
                on_bike = bike_ok and _permits(bike_dir, forward=forward)
                if on_car or on_bike:
                    tails.append(tail)
                    heads.append(head)
                    classes.append(road_class)
                    car.append(on_car)
                    bike.append(on_bike)
    if not tails:
        raise ValueError("no drivable roads in the extract")
    lat = np.array(lats, dtype=np.float64)
    lon = np.array(lons, dtype=np.float64)
    tail_a = np.array(tails, dtype=np.int64)
    head_a = np.array(heads, dtype=np.int64)
    return RoadNetwork(
        source=path.name,
        lat=lat,
        lon=lon,
        tail=tail_a,
        head=head_a,
        metres=haversine_m(lat[tail_a], lon[tail_a], lat[head_a], lon[head_a]),
        road_class=tuple(classes),
        car=np.array(car, dtype=bool),
        motorbike=np.array(bike, dtype=bool),
    )


def _drivable(tags: dict[str, str]) -> bool:
    if tags.get("area") in _YES:
        return False
    return not (tags["highway"] == "service" and tags.get("service") in _SERVICE_EXCLUDED)


def _allowed(tags: dict[str, str], keys: tuple[str, ...]) -> bool:
    """Most specific access tag first (`motorcar`, then `motor_vehicle`, then `access`)."""
    if tags.get("emergency") in _ALLOWED:
        return True
    for key in (*keys, "access"):
        if key in tags:
            return tags[key] not in _FORBIDDEN
    return True


def _direction(tags: dict[str, str], keys: tuple[str, ...]) -> int:
    """+1 one-way along the way, -1 one-way against it, 0 both ways."""
    for key in keys:
        if key in tags:
            value = tags[key]
            return 1 if value in _YES else -1 if value in _REVERSE else 0
    if tags.get("junction") in {"roundabout", "circular"} or tags["highway"] == "motorway":
        return 1
    return 0


def _permits(direction: int, *, forward: bool) -> bool:
    return direction == 0 or (direction == 1) == forward
