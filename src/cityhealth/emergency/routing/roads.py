"""Street-level routing over one drive network (one extract).

A query snaps the destination and the origins to the nearest node, runs ONE Dijkstra from the
destination over the reversed graph (so every origin's time comes out of the same run), and adds
the short legs from each point to its node (straight line × circuity at side-street speed).

Snapping only goes to nodes of the large strongly connected pieces of the network: an extract cut
at a bounding box leaves one-way stubs that can be entered but not left, and a point snapped onto
one would have no route at all. Pieces of at least `min_component_nodes` nodes are kept, so an
extract of two separate towns keeps both (a trip between them then has no road path and falls
back to the ward graph).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from cityhealth.emergency.routing.geometry import FloatArray, to_xy
from cityhealth.emergency.routing.osm import RoadNetwork
from cityhealth.emergency.routing.traffic import Band, TrafficTable, Vehicle

IntArray = NDArray[np.int64]

DEFAULT_MIN_COMPONENT_NODES = 50
# A point farther than this from any node is not served by the street graph (a lake, a park, the
# edge of the extract): the ward graph answers instead.
MAX_SNAP_M = 400.0
# Side-street class used for the legs between a point and its nearest node.
_ACCESS_CLASS = "residential"


@dataclass(frozen=True)
class RoadTrip:
    """Times from origins to one destination; NaN-free: `np.inf` where there is no road path."""

    seconds: FloatArray
    metres: FloatArray
    origin_node: IntArray
    dest_node: int
    next_node: IntArray  # Dijkstra predecessors over the reversed graph: the next hop forward


@dataclass
class _VehicleGraph:
    tail: IntArray
    head: IntArray
    metres: FloatArray
    road_class: IntArray
    edge_keys: IntArray  # tail * n + head, sorted, to look up a segment's length
    snap_nodes: IntArray
    kdtree: cKDTree
    coverage: object  # prepared shapely polygon in metres
    _reversed: dict[tuple[str, int], csr_array] = field(default_factory=dict)


class RoadGraph:
    def __init__(
        self,
        network: RoadNetwork,
        *,
        traffic: TrafficTable,
        min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES,
    ) -> None:
        self.source = network.source
        self.traffic = traffic
        self.x, self.y = to_xy(network.lat, network.lon)
        self.n = len(self.x)
        class_index = traffic.roads.index()
        classes = np.array([class_index[name] for name in network.road_class], dtype=np.int64)
        self._vehicles: dict[Vehicle, _VehicleGraph] = {}
        for vehicle, allowed in (
            (Vehicle.CAR, network.car),
            (Vehicle.MOTORBIKE, network.motorbike),
        ):
            graph = self._vehicle_graph(network, classes, allowed, min_component_nodes)
            if graph is not None:
                self._vehicles[vehicle] = graph

    @property
    def node_count(self) -> int:
        return self.n

    def serves(self, vehicle: Vehicle, x: FloatArray, y: FloatArray) -> NDArray[np.bool_]:
        """Points inside this network's coverage and close enough to one of its nodes."""
        graph = self._vehicles.get(vehicle)
        if graph is None:
            return np.zeros(x.shape, dtype=bool)
        inside: NDArray[np.bool_] = shapely.intersects_xy(graph.coverage, x, y)
        if inside.any():
            distance, _ = graph.kdtree.query(np.column_stack([x[inside], y[inside]]))
            inside[np.flatnonzero(inside)[distance > MAX_SNAP_M]] = False
        return inside

    def trip(
        self,
        *,
        vehicle: Vehicle,
        band: Band,
        origin_xy: tuple[FloatArray, FloatArray],
        dest_xy: tuple[float, float],
    ) -> RoadTrip:
        graph = self._vehicles[vehicle]
        speeds = self.traffic.roads.speeds_mps(vehicle, band)
        access_speed = speeds[self.traffic.roads.index()[_ACCESS_CLASS]]
        circuity = self.traffic.circuity
        dest_gap, dest_pick = graph.kdtree.query([dest_xy[0], dest_xy[1]])
        dest_node = int(graph.snap_nodes[dest_pick])
        origin_gap, origin_pick = graph.kdtree.query(np.column_stack(origin_xy))
        origin_node = graph.snap_nodes[np.atleast_1d(origin_pick)]
        origin_gap = np.atleast_1d(origin_gap)
        reverse = self._reversed(graph, vehicle, band, speeds)
        times, predecessors = dijkstra(
            reverse, directed=True, indices=dest_node, return_predecessors=True
        )
        road_metres = self._path_metres(graph, predecessors)
        access_m = (origin_gap + dest_gap) * circuity
        return RoadTrip(
            seconds=times[origin_node] + access_m / access_speed,
            metres=road_metres[origin_node] + access_m,
            origin_node=origin_node,
            dest_node=dest_node,
            next_node=predecessors.astype(np.int64),
        )

    def node_path(self, trip: RoadTrip, origin: int) -> list[int]:
        """Nodes from the origin's node to the destination's, following the trip's tree."""
        nodes = [int(trip.origin_node[origin])]
        while nodes[-1] != trip.dest_node and trip.next_node[nodes[-1]] >= 0:
            nodes.append(int(trip.next_node[nodes[-1]]))
        return nodes

    def _reversed(
        self, graph: _VehicleGraph, vehicle: Vehicle, band: Band, speeds: FloatArray
    ) -> csr_array:
        if band.key not in graph._reversed:
            seconds = graph.metres / speeds[graph.road_class]
            graph._reversed[band.key] = csr_array(
                (seconds, (graph.head, graph.tail)), shape=(self.n, self.n)
            )
        return graph._reversed[band.key]

    def _path_metres(self, graph: _VehicleGraph, predecessors: NDArray[np.int32]) -> FloatArray:
        """Metres along the tree of quickest paths, for every node (pointer doubling)."""
        nodes = np.arange(self.n, dtype=np.int64)
        pointer = np.where(predecessors >= 0, predecessors, nodes).astype(np.int64)
        reached = np.flatnonzero(pointer != nodes)
        step = np.zeros(self.n, dtype=np.float64)
        keys = reached * self.n + pointer[reached]
        step[reached] = graph.metres[np.searchsorted(graph.edge_keys, keys)]
        while True:
            step = step + step[pointer]
            following = pointer[pointer]
            if np.array_equal(following, pointer):
                return step
            pointer = following

    def _vehicle_graph(
        self,
        network: RoadNetwork,
        classes: IntArray,
        allowed: NDArray[np.bool_],
        min_component_nodes: int,
    ) -> _VehicleGraph | None:
        tail, head = network.tail[allowed], network.head[allowed]
        metres, road_class = network.metres[allowed], classes[allowed]
        if tail.size == 0:
            return None
        # One segment per ordered node pair (the shortest): parallel ways would otherwise be
        # summed by the sparse matrix, and the length lookup needs unique keys.
        keys = tail * self.n + head
        order = np.lexsort((metres, keys))
        unique = np.unique(keys[order], return_index=True)
        pick = order[unique[1]]
        tail, head, metres, road_class = tail[pick], head[pick], metres[pick], road_class[pick]
        forward = csr_array((np.ones(tail.size), (tail, head)), shape=(self.n, self.n))
        _, labels = connected_components(forward, directed=True, connection="strong")
        sizes = np.bincount(labels)
        big = sizes >= min(min_component_nodes, int(sizes.max()))
        touched = np.zeros(self.n, dtype=bool)
        touched[tail] = True
        snap_nodes = np.flatnonzero(big[labels] & touched)
        points = np.column_stack([self.x[snap_nodes], self.y[snap_nodes]])
        coverage = shapely.convex_hull(shapely.multipoints(points))
        shapely.prepare(coverage)
        return _VehicleGraph(
            tail=tail,
            head=head,
            metres=metres,
            road_class=road_class,
            edge_keys=unique[0],
            snap_nodes=snap_nodes,
            kdtree=cKDTree(points),
            coverage=coverage,
        )
