"""Street-level routing over one drive network (one extract).

A query snaps the destination and the origins to the nearest node of the extract, runs ONE
Dijkstra from the destination over the reversed graph (so every origin's time comes out of the
same run), and adds the short legs from each point to its node (straight line × circuity at
side-street speed).

Dijkstra runs over the contracted graph (`contract.py`: junctions, dead ends, and the nodes where
the road class or the one-way rule changes), while points still snap to every node of the
extract, so the answer is the one the full graph gives. A merged-away node lies part-way along an
edge: an origin there drives along it to the edge's end (in each direction the street allows), or
straight to the destination when that lies ahead on the same edge; a destination there is reached
from the start of its edge(s), entered into the query as one extra node after the routing nodes.

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

from cityhealth.emergency.routing.contract import Contracted, contract
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
    """Times from origins to one destination; NaN-free: `np.inf` where there is no road path.

    Nodes are the extract's (`origin_node`, `dest_node`); the rest describes the tree of quickest
    paths over the routing nodes, for drawing one (`RoadGraph.node_path`).
    """

    seconds: FloatArray
    metres: FloatArray
    origin_node: IntArray
    dest_node: int
    vehicle: Vehicle
    next_node: IntArray  # per routing node (and the destination's entry), the next hop forward
    leave_by: IntArray  # per origin: segment it drives off a merged-away node by, else -1
    stop_at: IntArray  # per origin: the destination's segment when it lies ahead on that edge
    dest_segments: IntArray  # segments leaving a merged-away destination; empty otherwise


@dataclass
class _VehicleGraph:
    net: Contracted
    snap_nodes: IntArray
    kdtree: cKDTree
    coverage: object  # prepared shapely polygon in metres
    _reversed: dict[tuple[str, int], tuple[csr_array, FloatArray]] = field(default_factory=dict)


class RoadGraph:
    def __init__(
        self,
        network: RoadNetwork,
        *,
        traffic: TrafficTable,
        min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES,
        merge: bool = True,
    ) -> None:
        """`merge=False` routes over every node of the extract (for comparisons)."""
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
            graph = self._vehicle_graph(network, classes, allowed, min_component_nodes, merge)
            if graph is not None:
                self._vehicles[vehicle] = graph

    @property
    def node_count(self) -> int:
        return self.n

    def routing_size(self, vehicle: Vehicle) -> tuple[int, int]:
        """Nodes and directed edges Dijkstra runs over for the vehicle."""
        net = self._vehicles[vehicle].net
        return net.node_count, net.edge_count

    def routing_nodes(self, vehicle: Vehicle) -> IntArray:
        """The extract's nodes that Dijkstra runs over for the vehicle (the others merged)."""
        return self._vehicles[vehicle].net.kept

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
        net = graph.net
        speeds = self.traffic.roads.speeds_mps(vehicle, band)
        access_speed = speeds[self.traffic.roads.index()[_ACCESS_CLASS]]
        dest_gap, dest_pick = graph.kdtree.query([dest_xy[0], dest_xy[1]])
        dest_node = int(graph.snap_nodes[dest_pick])
        origin_gap, origin_pick = graph.kdtree.query(np.column_stack(origin_xy))
        origin_node = graph.snap_nodes[np.atleast_1d(origin_pick)]
        reverse, edge_speed = self._reversed(graph, band, speeds)
        source = int(net.node_of[dest_node])
        dest_segments = net.along[dest_node][net.along[dest_node] >= 0]
        entry_tail = np.zeros(0, dtype=np.int64)
        entry_m = np.zeros(0)
        if source < 0:  # merged away: enter from the start of each edge through it
            edges = net.seg_edge[dest_segments]
            entry_tail = net.tail[edges]
            # Clipped: rounding must not make a weight negative, which Dijkstra refuses.
            entry_m = np.maximum(net.metres[edges] - net.seg_rest[dest_segments], 0.0)
            reverse = _with_entry(reverse, entry_tail, entry_m / edge_speed[edges])
            source = net.node_count
        times, predecessors = dijkstra(
            reverse, directed=True, indices=source, return_predecessors=True
        )
        road_m = _path_metres(net, predecessors, entry_tail, entry_m)
        leg = _Leg.from_origins(net, origin_node, times, road_m, dest_segments, edge_speed)
        access_m = (np.atleast_1d(origin_gap) + dest_gap) * self.traffic.circuity
        return RoadTrip(
            seconds=leg.seconds + access_m / access_speed,
            metres=leg.metres + access_m,
            origin_node=origin_node,
            dest_node=dest_node,
            vehicle=vehicle,
            next_node=predecessors.astype(np.int64),
            leave_by=leg.leave_by,
            stop_at=leg.stop_at,
            dest_segments=dest_segments,
        )

    def node_path(self, trip: RoadTrip, origin: int) -> list[int]:
        """Nodes of the extract from the origin's node to the destination's, along the trip."""
        net = self._vehicles[trip.vehicle].net
        nodes = [int(trip.origin_node[origin])]
        leave, stop = int(trip.leave_by[origin]), int(trip.stop_at[origin])
        here = int(net.node_of[nodes[0]])
        if leave >= 0:
            edge = int(net.seg_edge[leave])
            nodes += net.seg_head[leave : stop if stop >= 0 else net.seg_ptr[edge + 1]].tolist()
            if stop >= 0:
                return nodes
            here = int(net.head[edge])
        while here >= 0 and trip.next_node[here] >= 0:
            after = int(trip.next_node[here])
            if after == net.node_count:  # the last edge stops at the merged-away destination
                entered = trip.dest_segments[net.tail[net.seg_edge[trip.dest_segments]] == here]
                start = net.seg_ptr[net.seg_edge[entered[0]]]
                nodes += net.seg_head[start : entered[0]].tolist()
                break
            edge = int(net.edge_between(np.array([here]), np.array([after]))[0])
            nodes += net.seg_head[net.seg_ptr[edge] : net.seg_ptr[edge + 1]].tolist()
            here = after
        return nodes

    def _reversed(
        self, graph: _VehicleGraph, band: Band, speeds: FloatArray
    ) -> tuple[csr_array, FloatArray]:
        """The reversed routing graph in the band's seconds (one empty row at the end, for a
        destination merged away), and each edge's speed."""
        if band.key not in graph._reversed:
            net = graph.net
            edge_speed: FloatArray = speeds[net.road_class]
            size = net.node_count + 1
            reverse = csr_array((net.metres / edge_speed, (net.head, net.tail)), shape=(size, size))
            graph._reversed[band.key] = (reverse, edge_speed)
        return graph._reversed[band.key]

    def _vehicle_graph(
        self,
        network: RoadNetwork,
        classes: IntArray,
        allowed: NDArray[np.bool_],
        min_component_nodes: int,
        merge: bool,
    ) -> _VehicleGraph | None:
        tail, head = network.tail[allowed], network.head[allowed]
        metres, road_class = network.metres[allowed], classes[allowed]
        if tail.size == 0:
            return None
        # One segment per ordered node pair (the shortest): parallel ways would otherwise be
        # summed by the sparse matrix, and an edge is looked up by its ends.
        keys = tail * self.n + head
        order = np.lexsort((metres, keys))
        pick = order[np.unique(keys[order], return_index=True)[1]]
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
            net=contract(self.n, tail, head, metres, road_class, merge=merge),
            snap_nodes=snap_nodes,
            kdtree=cKDTree(points),
            coverage=coverage,
        )


@dataclass(frozen=True)
class _Leg:
    """Each origin's time and metres to the destination, and how it leaves its node."""

    seconds: FloatArray
    metres: FloatArray
    leave_by: IntArray
    stop_at: IntArray

    @classmethod
    def from_origins(
        cls,
        net: Contracted,
        origin: IntArray,
        times: FloatArray,
        road_m: FloatArray,
        dest_segments: IntArray,
        edge_speed: FloatArray,
    ) -> _Leg:
        routing = net.node_of[origin]
        at_node = routing >= 0
        seconds = np.where(at_node, times[np.maximum(routing, 0)], np.inf)
        metres = np.where(at_node, road_m[np.maximum(routing, 0)], np.inf)
        leave_by = np.full(origin.size, -1)
        stop_at = np.full(origin.size, -1)
        for slot in (0, 1):  # a merged-away origin leaves by one or two edges
            position = net.along[origin, slot]
            safe = np.maximum(position, 0)
            edge = net.seg_edge[safe]
            rest = net.seg_rest[safe]
            end = net.head[edge]
            way_s = np.where(position >= 0, rest / edge_speed[edge] + times[end], np.inf)
            way_m = rest + road_m[end]
            stop = np.full(origin.size, -1)
            for ahead in dest_segments:  # the destination further along this very edge
                straight_m = np.maximum(rest - net.seg_rest[ahead], 0.0)
                straight_s = straight_m / edge_speed[edge]
                take = (position >= 0) & (net.seg_edge[ahead] == edge) & (position <= ahead)
                take &= straight_s <= way_s
                way_s = np.where(take, straight_s, way_s)
                way_m = np.where(take, straight_m, way_m)
                stop = np.where(take, ahead, stop)
            better = way_s < seconds
            seconds = np.where(better, way_s, seconds)
            metres = np.where(better, way_m, metres)
            leave_by = np.where(better, position, leave_by)
            stop_at = np.where(better, stop, stop_at)
        metres[~np.isfinite(seconds)] = np.inf  # no path, whichever node the origin is at
        return cls(seconds=seconds, metres=metres, leave_by=leave_by, stop_at=stop_at)


def _with_entry(reverse: csr_array, targets: IntArray, seconds: FloatArray) -> csr_array:
    """`reverse` with edges from its last (empty) row to `targets`; the cached matrix is left
    alone, so concurrent queries can share it."""
    indptr = reverse.indptr.copy()
    indptr[-1] += targets.size
    indices = np.concatenate([reverse.indices, targets.astype(reverse.indices.dtype)])
    return csr_array(
        (np.concatenate([reverse.data, seconds]), indices, indptr), shape=reverse.shape
    )


def _path_metres(
    net: Contracted, predecessors: NDArray[np.int32], entry_tail: IntArray, entry_m: FloatArray
) -> FloatArray:
    """Metres along the tree of quickest paths, for every routing node (pointer doubling)."""
    nodes = np.arange(predecessors.size, dtype=np.int64)
    pointer = np.where(predecessors >= 0, predecessors, nodes).astype(np.int64)
    step = np.zeros(nodes.size, dtype=np.float64)
    reached = np.flatnonzero((pointer != nodes) & (pointer < net.node_count))
    step[reached] = net.metres[net.edge_between(reached, pointer[reached])]
    entered = pointer[entry_tail] == net.node_count
    step[entry_tail[entered]] = entry_m[entered]
    while True:
        step = step + step[pointer]
        following = pointer[pointer]
        if np.array_equal(following, pointer):
            return step
        pointer = following
