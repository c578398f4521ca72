"""The city graph: one node per ward, an edge between wards whose polygons touch.

It answers for the whole city when no street-level extract covers a trip. A trip is
origin → a ward node → … → a ward node → destination: the first and last legs go to the node of
the point's own ward or of any neighbour (whichever is quicker), so that a point near a ward
boundary is not sent back to its own ward's centre first. Points in the same or in adjacent wards
may also go straight (× circuity). Every leg is great-circle distance × circuity at the speed of
the ward class (dense/urban phường, rural xã) under the current time band. Edges between ward
nodes use the smaller `ward_graph_circuity`: a chain of centre-to-centre hops already bends
(by about 6% over all pairs of Hà Nội's wards), and the two factors together should give the
road circuity measured on the central extract.

The graph has ~126 nodes, so all-pairs times are computed once per (vehicle, band) and a query
is array arithmetic over the few candidate nodes.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import shortest_path
from shapely.geometry import shape

from cityhealth.emergency.routing.errors import model_unavailable
from cityhealth.emergency.routing.geometry import FloatArray, to_xy
from cityhealth.emergency.routing.traffic import Band, TrafficTable, Vehicle

IntArray = NDArray[np.int64]

# Polygons from different surveys leave slivers and overlaps along shared borders: wards closer
# than this are neighbours.
ADJACENCY_TOLERANCE_M = 30.0
# A point this close outside the city's polygons (GPS error, a unit on the border road) still
# belongs to the nearest ward.
OUTSIDE_TOLERANCE_M = 250.0


@dataclass(frozen=True)
class WardArea:
    """One ward as read from the data: polygon in (lon, lat), label point inside it."""

    code: str
    name: str
    kind: str  # "phường" or "xã"
    population: int
    area_km2: float
    lat: float
    lon: float
    polygon: Any  # shapely Polygon / MultiPolygon in lon, lat


@dataclass(frozen=True)
class WardPath:
    seconds: FloatArray
    metres: FloatArray
    first: IntArray  # ward node after the origin, -1 for a direct trip
    last: IntArray  # ward node before the destination, -1 for a direct trip


@dataclass
class WardGraph:
    codes: tuple[str, ...]
    node_x: FloatArray
    node_y: FloatArray
    node_class: IntArray
    polygons: NDArray[np.object_]
    adjacent: NDArray[np.bool_]  # (n, n), diagonal included
    candidates: IntArray  # (n, max degree + 1): own node first, padded with -1
    edge_metres: FloatArray  # (n, n) circuity-adjusted, 0 where not adjacent
    traffic: TrafficTable
    _tree: Any = field(repr=False)
    _profiles: dict[tuple[Vehicle, tuple[str, int]], tuple[FloatArray, FloatArray, IntArray]] = (
        field(default_factory=dict, repr=False)
    )

    @classmethod
    def from_files(cls, *, boundaries: Path, wards_csv: Path, traffic: TrafficTable) -> WardGraph:
        try:
            return cls.from_areas(_read_areas(boundaries, wards_csv), traffic=traffic)
        except (OSError, ValueError, KeyError) as error:
            raise model_unavailable(
                what_en=f"ward data {boundaries.name} / {wards_csv.name} unreadable ({error})",
                what_vi=f"không đọc được dữ liệu phường/xã {boundaries.name} ({error})",
            ) from error

    @classmethod
    def from_areas(cls, areas: list[WardArea], *, traffic: TrafficTable) -> WardGraph:
        if not areas:
            raise ValueError("no wards")
        n = len(areas)
        polygons = np.array(
            [shapely.transform(area.polygon, _project_coords) for area in areas], dtype=object
        )
        shapely.prepare(polygons)
        tree = shapely.STRtree(polygons)
        left, right = tree.query(shapely.buffer(polygons, ADJACENCY_TOLERANCE_M), "intersects")
        adjacent = np.zeros((n, n), dtype=bool)
        adjacent[left, right] = True
        adjacent |= adjacent.T
        np.fill_diagonal(adjacent, True)
        node_x, node_y = to_xy([a.lat for a in areas], [a.lon for a in areas])
        straight = np.hypot(node_x[:, None] - node_x[None, :], node_y[:, None] - node_y[None, :])
        edge_metres = np.where(adjacent, straight * traffic.ward_graph_circuity, 0.0)
        np.fill_diagonal(edge_metres, 0.0)
        degree = adjacent.sum(axis=1)
        candidates = np.full((n, int(degree.max())), -1, dtype=np.int64)
        for i in range(n):
            others = [j for j in np.flatnonzero(adjacent[i]) if j != i]
            candidates[i, : len(others) + 1] = [i, *others]
        return cls(
            codes=tuple(a.code for a in areas),
            node_x=node_x,
            node_y=node_y,
            node_class=np.array([_ward_class(a, traffic) for a in areas], dtype=np.int64),
            polygons=polygons,
            adjacent=adjacent,
            candidates=candidates,
            edge_metres=edge_metres,
            traffic=traffic,
            _tree=tree,
        )

    def ward_index(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Index of the ward holding each point (metres), -1 outside the city (with tolerance)."""
        result = np.full(x.shape, -1, dtype=np.int64)
        points = shapely.points(x, y)
        found_point, found_ward = self._tree.query(points, "intersects")
        # A point on a shared border matches twice; keep the first.
        result[found_point[::-1]] = found_ward[::-1]
        missing = np.flatnonzero(result < 0)
        if missing.size:
            near_point, near_ward = self._tree.query_nearest(
                points[missing], max_distance=OUTSIDE_TOLERANCE_M
            )
            result[missing[near_point[::-1]]] = near_ward[::-1]
        return result

    def speeds_mps(self, vehicle: Vehicle, band: Band) -> FloatArray:
        speeds: FloatArray = self.traffic.wards.speeds_mps(vehicle, band)[self.node_class]
        return speeds

    def paths(
        self,
        *,
        vehicle: Vehicle,
        band: Band,
        origin_xy: tuple[FloatArray, FloatArray],
        origin_ward: IntArray,
        dest_xy: tuple[float, float],
        dest_ward: int,
    ) -> WardPath:
        """Quickest ward-graph trip from each origin to the destination."""
        times, metres, _ = self._all_pairs(vehicle, band)
        speeds = self.speeds_mps(vehicle, band)
        circuity = self.traffic.circuity
        ox, oy = origin_xy
        cand_o = self.candidates[origin_ward]  # (k, D)
        cand_d = self.candidates[dest_ward]  # (D,)
        safe_o, safe_d = np.maximum(cand_o, 0), np.maximum(cand_d, 0)
        leg_o_m = np.hypot(ox[:, None] - self.node_x[safe_o], oy[:, None] - self.node_y[safe_o])
        leg_o_m *= circuity
        leg_d_m = np.hypot(dest_xy[0] - self.node_x[safe_d], dest_xy[1] - self.node_y[safe_d])
        leg_d_m *= circuity
        leg_o_s = np.where(cand_o >= 0, leg_o_m / speeds[origin_ward][:, None], np.inf)
        leg_d_s = np.where(cand_d >= 0, leg_d_m / speeds[dest_ward], np.inf)
        total = leg_o_s[:, :, None] + times[safe_o[:, :, None], safe_d[None, None, :]]
        total += leg_d_s[None, None, :]
        flat = total.reshape(len(origin_ward), -1)
        best = np.argmin(flat, axis=1)
        rows = np.arange(len(origin_ward))
        seconds = flat[rows, best]
        i_best, j_best = np.divmod(best, cand_d.size)
        first, last = cand_o[rows, i_best], cand_d[j_best]
        path_m = leg_o_m[rows, i_best] + metres[safe_o[rows, i_best], safe_d[j_best]]
        path_m += leg_d_m[j_best]
        # Same or neighbouring ward: going straight may beat any detour through ward centres.
        direct_m = np.hypot(ox - dest_xy[0], oy - dest_xy[1]) * circuity
        direct_s = direct_m * 0.5 * (1.0 / speeds[origin_ward] + 1.0 / speeds[dest_ward])
        direct = self.adjacent[origin_ward, dest_ward] & (direct_s <= seconds)
        return WardPath(
            seconds=np.where(direct, direct_s, seconds),
            metres=np.where(direct, direct_m, path_m),
            first=np.where(direct, -1, first),
            last=np.where(direct, -1, last),
        )

    def node_path(self, *, vehicle: Vehicle, band: Band, first: int, last: int) -> list[int]:
        """Ward nodes from `first` to `last` along the quickest ward path."""
        _, _, predecessors = self._all_pairs(vehicle, band)
        nodes = [last]
        while nodes[-1] != first and predecessors[first, nodes[-1]] >= 0:
            nodes.append(int(predecessors[first, nodes[-1]]))
        return nodes[::-1]

    def _all_pairs(self, vehicle: Vehicle, band: Band) -> tuple[FloatArray, FloatArray, IntArray]:
        key = (vehicle, band.key)
        if key not in self._profiles:
            self._profiles[key] = self._compute_all_pairs(vehicle, band)
        return self._profiles[key]

    def _compute_all_pairs(
        self, vehicle: Vehicle, band: Band
    ) -> tuple[FloatArray, FloatArray, IntArray]:
        speeds = self.speeds_mps(vehicle, band)
        n = len(self.codes)
        left, right = np.nonzero(self.edge_metres)
        seconds = self.edge_metres[left, right] * 0.5 * (1 / speeds[left] + 1 / speeds[right])
        graph = csr_array((seconds, (left, right)), shape=(n, n))
        times, predecessors = shortest_path(graph, method="D", return_predecessors=True)
        # Metres along each quickest path: pointer doubling up the predecessor trees.
        rows, cols = np.arange(n)[:, None], np.arange(n)[None, :]
        pointer = np.where(predecessors < 0, cols, predecessors).astype(np.int64)
        metres = self.edge_metres[pointer, cols]
        while True:
            metres = metres + metres[rows, pointer]
            following = pointer[rows, pointer]
            if np.array_equal(following, pointer):
                break
            pointer = following
        return times, metres, predecessors.astype(np.int64)


def _project_coords(coords: FloatArray) -> FloatArray:
    x, y = to_xy(coords[:, 1], coords[:, 0])
    return np.column_stack([x, y])


def _ward_class(area: WardArea, traffic: TrafficTable) -> int:
    index = traffic.wards.index()
    if area.kind != "phường":
        return index["rural"]
    density = area.population / area.area_km2 if area.area_km2 > 0 else 0.0
    return index["dense"] if density >= traffic.dense_ward_people_per_km2 else index["urban"]


def _read_areas(boundaries: Path, wards_csv: Path) -> list[WardArea]:
    """Polygons from the GeoJSON, joined on the 5-digit code with the ward table (kind, area,
    population, label point): the GeoJSON's own area attribute is wrong for 20 units."""
    with wards_csv.open(encoding="utf-8", newline="") as handle:
        rows = {row["code"].strip(): row for row in csv.DictReader(handle)}
    features = json.loads(boundaries.read_text(encoding="utf-8"))["features"]
    areas = []
    for feature in features:
        code = str(feature["properties"]["Mã hành chính"]).strip().zfill(5)
        row = rows[code]
        areas.append(
            WardArea(
                code=code,
                name=row["name"].strip(),
                kind=row["kind"].strip(),
                population=int(row["population"]),
                area_km2=float(row["area_km2"]),
                lat=float(row["latitude"]),
                lon=float(row["longitude"]),
                polygon=shape(feature["geometry"]),
            )
        )
    if len(areas) != len(rows):
        raise ValueError(f"{len(areas)} polygons for {len(rows)} wards")
    return areas
