"""Travel times for the dispatcher: the public face of the routing package.

Which layer answers (per origin, for one destination):

1. **road**: origin and destination both inside the same street-level extract (its convex hull,
   and within 400 m of one of its nodes): Dijkstra over the drive network.
2. **ward_graph**: otherwise, or when the street graph has no path: the city-wide ward graph.
3. **straight_line**: an origin outside the city, or no ward path: great-circle distance ×
   circuity at the urban ward speed of the hour. Never an exception for a point inside the city.

The destination is validated strictly (it must be inside the city: a dispatch to a point outside
is an input error), the origins leniently (a unit may stand just outside, returning from a trip).
Last-leg access (alleys a car cannot enter) is added at the destination.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from cityhealth.emergency.routing import errors
from cityhealth.emergency.routing.geometry import FloatArray, to_latlon, to_xy
from cityhealth.emergency.routing.osm import read_extract
from cityhealth.emergency.routing.roads import DEFAULT_MIN_COMPONENT_NODES, RoadGraph
from cityhealth.emergency.routing.traffic import Band, TrafficTable, Vehicle
from cityhealth.emergency.routing.wards import WardGraph

Method = Literal["road", "ward_graph", "straight_line"]
LatLon = tuple[float, float]

BOUNDARIES_FILE = ("geo", "hanoi_wards_2025_boundaries.geojson")
WARDS_FILE = ("geo", "hanoi_wards_2025.csv")
TRAFFIC_FILE = ("emergency", "traffic.json")
EXTRACT_PATTERNS = ("*.osm", "*.osm.pbf")
MAX_WALK_METRES = 5_000.0
# What a failing graph computation may raise (bad extract content, an exhausted machine): the
# query then degrades to the next layer instead of leaving the dispatcher without an answer.
_GRAPH_FAILURES = (ValueError, IndexError, KeyError, RuntimeError, MemoryError, FloatingPointError)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
    """How the last metres to the patient are covered.

    `car_reachable=False`: a car ambulance stops at the nearest road and the crew walks
    `walk_metres` carrying its kit; a motorbike rides those metres in at alley speed.
    `car_reachable=True` with `walk_metres` > 0: everyone walks that far (a courtyard, a market).
    """

    car_reachable: bool = True
    walk_metres: float = 0.0


@dataclass(frozen=True)
class Note:
    """Something the dispatcher should know about an estimate; `origin` is an index or None."""

    code: str
    en: str
    vi: str
    origin: int | None = None


@dataclass(frozen=True)
class TravelEstimate:
    seconds: FloatArray
    metres: FloatArray
    method: tuple[Method, ...]
    notes: tuple[Note, ...]
    band: str  # the time band used, e.g. "weekday morning peak"


@dataclass(frozen=True)
class Route:
    points: tuple[LatLon, ...]
    seconds: float
    metres: float
    method: Method
    notes: tuple[Note, ...]
    band: str


class TravelModel:
    def __init__(self, *, wards: WardGraph, roads: Sequence[RoadGraph], traffic: TrafficTable):
        self.wards = wards
        self.roads = tuple(roads)
        self.traffic = traffic

    @classmethod
    def load(
        cls,
        *,
        extracts: Iterable[Path] | None = None,
        data_dir: Path | None = None,
        min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES,
        merge: bool = True,
    ) -> TravelModel:
        """Build the model from `data_dir` (default: settings.DATA_DIR).

        `extracts`: OSM files for the street-level layer; by default every `.osm`/`.osm.pbf`
        under `<data_dir>/geo`. `merge=False` keeps every node of the street graphs (the same
        answers, slower; for comparisons). Raises RoutingError when a file is missing or
        unreadable.
        """
        if data_dir is None:
            from cityhealth.core.datafiles import data_path

            data_dir = data_path()
        traffic = TrafficTable.from_file(data_dir.joinpath(*TRAFFIC_FILE))
        wards = WardGraph.from_files(
            boundaries=data_dir.joinpath(*BOUNDARIES_FILE),
            wards_csv=data_dir.joinpath(*WARDS_FILE),
            traffic=traffic,
        )
        if extracts is None:
            found = {p for pattern in EXTRACT_PATTERNS for p in (data_dir / "geo").glob(pattern)}
            extracts = sorted(found)
        roads = [
            RoadGraph(
                read_extract(path),
                traffic=traffic,
                min_component_nodes=min_component_nodes,
                merge=merge,
            )
            for path in extracts
        ]
        return cls(wards=wards, roads=roads, traffic=traffic)

    @classmethod
    def shared(cls) -> TravelModel:
        """The model built from the shipped data, once per process."""
        return _shared_model()

    def ward_of(self, lat: float, lon: float) -> str | None:
        """Code of the ward holding the point (within 250 m of the city's edge), else None."""
        lat, lon = _checked(lat, lon, field="point")
        x, y = to_xy([lat], [lon])
        index = int(self.wards.ward_index(x, y)[0])
        return self.wards.codes[index] if index >= 0 else None

    def travel_seconds(
        self,
        *,
        origins: Sequence[LatLon],
        destination: LatLon,
        at: datetime,
        vehicle: Vehicle = Vehicle.CAR,
        access: Access | None = None,
    ) -> TravelEstimate:
        """Travel time from every origin to the destination, leaving at `at`."""
        access = access or Access()
        dest, dest_ward = self._destination(destination, access)
        band = self.traffic.band_at(at)
        lat, lon = _checked_many(origins)
        ox, oy = to_xy(lat, lon)
        answer = _Answer.empty(len(ox))
        origin_ward = self.wards.ward_index(ox, oy)
        for index in np.flatnonzero(origin_ward < 0):
            answer.notes.append(_note_outside(int(index)))
        todo = origin_ward >= 0
        road = self._road_for(vehicle, dest)
        if road is not None and todo.any():
            todo &= ~self._road_layer(answer, road, vehicle, band, (ox, oy), todo, dest)
        if todo.any():
            self._ward_layer(answer, vehicle, band, (ox, oy), origin_ward, todo, dest, dest_ward)
        rest = ~np.isfinite(answer.seconds)
        if rest.any():
            s, m = self._straight(vehicle, band, ox[rest], oy[rest], dest, dest_ward)
            answer.seconds[rest], answer.metres[rest] = s, m
        return TravelEstimate(
            seconds=answer.seconds + self._last_leg_seconds(vehicle, access),
            metres=answer.metres + access.walk_metres,
            method=tuple(answer.method.tolist()),
            notes=tuple(answer.notes),
            band=band.label,
        )

    def route(
        self,
        origin: LatLon,
        destination: LatLon,
        *,
        at: datetime,
        vehicle: Vehicle = Vehicle.CAR,
        access: Access | None = None,
    ) -> Route:
        """One trip with its polyline, for the crew's map."""
        access = access or Access()
        estimate = self.travel_seconds(
            origins=[origin], destination=destination, at=at, vehicle=vehicle, access=access
        )
        band = self.traffic.band_at(at)
        method = estimate.method[0]
        dest_xy = to_xy([destination[0]], [destination[1]])
        origin_xy = to_xy([origin[0]], [origin[1]])
        xs, ys = [float(origin_xy[0][0])], [float(origin_xy[1][0])]
        if method == "road":
            road = self._road_for(vehicle, (float(dest_xy[0][0]), float(dest_xy[1][0])))
            assert road is not None
            trip = road.trip(
                vehicle=vehicle, band=band, origin_xy=origin_xy, dest_xy=_point(dest_xy)
            )
            nodes = road.node_path(trip, 0)
            xs += road.x[nodes].tolist()
            ys += road.y[nodes].tolist()
        elif method == "ward_graph":
            origin_ward = self.wards.ward_index(*origin_xy)
            dest_ward = int(self.wards.ward_index(*dest_xy)[0])
            path = self.wards.paths(
                vehicle=vehicle,
                band=band,
                origin_xy=origin_xy,
                origin_ward=origin_ward,
                dest_xy=_point(dest_xy),
                dest_ward=dest_ward,
            )
            first, last = int(path.first[0]), int(path.last[0])
            if first >= 0:
                nodes = self.wards.node_path(vehicle=vehicle, band=band, first=first, last=last)
                xs += self.wards.node_x[nodes].tolist()
                ys += self.wards.node_y[nodes].tolist()
        xs.append(float(dest_xy[0][0]))
        ys.append(float(dest_xy[1][0]))
        lats, lons = to_latlon(xs, ys)
        return Route(
            points=tuple(zip(lats.tolist(), lons.tolist(), strict=True)),
            seconds=float(estimate.seconds[0]),
            metres=float(estimate.metres[0]),
            method=method,
            notes=estimate.notes,
            band=estimate.band,
        )

    # -- inner steps ------------------------------------------------------------------------

    def _destination(self, destination: LatLon, access: Access) -> tuple[tuple[float, float], int]:
        if not (0.0 <= access.walk_metres <= MAX_WALK_METRES):
            raise errors.invalid_access(walk_metres=access.walk_metres)
        lat, lon = _checked(*destination, field="destination")
        x, y = to_xy([lat], [lon])
        ward = int(self.wards.ward_index(x, y)[0])
        if ward < 0:
            raise errors.outside_city(lat=lat, lon=lon, field="destination")
        return (float(x[0]), float(y[0])), ward

    def _road_layer(
        self,
        answer: _Answer,
        road: RoadGraph,
        vehicle: Vehicle,
        band: Band,
        origin_xy: tuple[FloatArray, FloatArray],
        todo: NDArray[np.bool_],
        dest: tuple[float, float],
    ) -> NDArray[np.bool_]:
        """Street-level times for the origins this extract serves; returns which got one."""
        served = todo & road.serves(vehicle, *origin_xy)
        if not served.any():
            return served
        try:
            trip = road.trip(
                vehicle=vehicle,
                band=band,
                origin_xy=(origin_xy[0][served], origin_xy[1][served]),
                dest_xy=dest,
            )
        except _GRAPH_FAILURES:
            logger.exception("street routing failed over %s", road.source)
            answer.notes.append(_note_failed(road.source))
            return np.zeros_like(served)
        ok = np.isfinite(trip.seconds)
        for index in np.flatnonzero(served)[~ok]:
            answer.notes.append(_note_no_road(int(index), road.source))
        picked = np.flatnonzero(served)[ok]
        answer.fill(picked, trip.seconds[ok], trip.metres[ok], "road")
        done = np.zeros_like(served)
        done[picked] = True
        return done

    def _ward_layer(
        self,
        answer: _Answer,
        vehicle: Vehicle,
        band: Band,
        origin_xy: tuple[FloatArray, FloatArray],
        origin_ward: NDArray[np.int64],
        todo: NDArray[np.bool_],
        dest: tuple[float, float],
        dest_ward: int,
    ) -> None:
        try:
            path = self.wards.paths(
                vehicle=vehicle,
                band=band,
                origin_xy=(origin_xy[0][todo], origin_xy[1][todo]),
                origin_ward=origin_ward[todo],
                dest_xy=dest,
                dest_ward=dest_ward,
            )
        except _GRAPH_FAILURES:
            logger.exception("ward-graph routing failed")
            answer.notes.append(_note_failed("the ward graph"))
            return
        ok = np.isfinite(path.seconds)
        for index in np.flatnonzero(todo)[~ok]:
            answer.notes.append(_note_no_ward_path(int(index)))
        answer.fill(np.flatnonzero(todo)[ok], path.seconds[ok], path.metres[ok], "ward_graph")

    def _road_for(self, vehicle: Vehicle, dest: tuple[float, float]) -> RoadGraph | None:
        x, y = np.array([dest[0]]), np.array([dest[1]])
        for road in self.roads:
            if road.serves(vehicle, x, y)[0]:
                return road
        return None

    def _straight(
        self,
        vehicle: Vehicle,
        band: Band,
        x: FloatArray,
        y: FloatArray,
        dest: tuple[float, float],
        dest_ward: int,
    ) -> tuple[FloatArray, FloatArray]:
        """The last resort: straight line × circuity at the destination ward's speed."""
        metres = np.hypot(x - dest[0], y - dest[1]) * self.traffic.circuity
        speed = self.wards.speeds_mps(vehicle, band)[dest_ward]
        return metres / speed, metres

    def _last_leg_seconds(self, vehicle: Vehicle, access: Access) -> float:
        if access.walk_metres <= 0:
            return 0.0
        if vehicle is Vehicle.MOTORBIKE and not access.car_reachable:
            return access.walk_metres / self.traffic.motorbike_alley_mps
        return access.walk_metres / self.traffic.walk_with_kit_mps


@dataclass
class _Answer:
    """Per-origin results being filled in, layer by layer; inf marks "not yet answered"."""

    seconds: FloatArray
    metres: FloatArray
    method: NDArray[np.object_]
    notes: list[Note]

    @classmethod
    def empty(cls, count: int) -> _Answer:
        return cls(
            seconds=np.full(count, np.inf),
            metres=np.full(count, np.inf),
            method=np.full(count, "straight_line", dtype=object),
            notes=[],
        )

    def fill(
        self, where: NDArray[np.int64], seconds: FloatArray, metres: FloatArray, method: Method
    ) -> None:
        self.seconds[where], self.metres[where], self.method[where] = seconds, metres, method


@functools.lru_cache(maxsize=1)
def _shared_model() -> TravelModel:
    return TravelModel.load()


def _point(xy: tuple[FloatArray, FloatArray]) -> tuple[float, float]:
    return float(xy[0][0]), float(xy[1][0])


def _checked(lat: float, lon: float, *, field: str, index: int | None = None) -> LatLon:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        raise errors.invalid_coordinates(field=field, index=index) from None
    if not (np.isfinite(lat_f) and np.isfinite(lon_f)) or abs(lat_f) > 90 or abs(lon_f) > 180:
        raise errors.invalid_coordinates(field=field, index=index)
    return lat_f, lon_f


def _checked_many(origins: Sequence[LatLon]) -> tuple[FloatArray, FloatArray]:
    try:
        array = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise errors.invalid_coordinates(field="origins") from None
    bad = ~np.isfinite(array).all(axis=1) | (np.abs(array[:, 0]) > 90)
    bad |= np.abs(array[:, 1]) > 180
    if bad.any():
        raise errors.invalid_coordinates(field="origins", index=int(np.flatnonzero(bad)[0]))
    return array[:, 0], array[:, 1]


def _note_outside(index: int) -> Note:
    return Note(
        code="routing.origin_outside_city",
        en="This unit is outside the city: straight-line estimate.",
        vi="Xe đang ở ngoài địa bàn thành phố: ước tính theo đường chim bay.",
        origin=index,
    )


def _note_no_road(index: int, source: str) -> Note:
    return Note(
        code="routing.no_road_path",
        en=f"No road path in {source} (disconnected streets): ward-graph estimate.",
        vi=f"Không có đường đi trong {source} (đường không liên thông): ước tính theo phường/xã.",
        origin=index,
    )


def _note_failed(layer: str) -> Note:
    return Note(
        code="routing.model_failed",
        en=f"Routing over {layer} failed: a coarser estimate is shown.",
        vi=f"Tính đường trên {layer} bị lỗi: hiển thị ước tính thô hơn.",
    )


def _note_no_ward_path(index: int) -> Note:
    return Note(
        code="routing.no_ward_path",
        en="No path in the city graph: straight-line estimate.",
        vi="Không có đường đi trên đồ thị phường/xã: ước tính theo đường chim bay.",
        origin=index,
    )
