"""Merging the shape nodes of a street graph, so that Dijkstra visits junctions only.

Most nodes of an OSM way only draw its curve: about four in five of the central extract's nodes
have two neighbours and no choice to offer. A node is merged away (*interior*) when

- it has exactly two neighbours (no branch, not a dead end),
- traffic passes straight through it: both ways on both sides, or in on one side and out on the
  other (a one-way street; a change from two-way to one-way keeps the node),
- every segment touching it has the same road class, hence the same speed in every time band.

A chain of interior nodes between two kept nodes becomes one edge per direction of travel, its
length the sum of the segments' lengths. Its time in any band is that length over the class's
speed, which is the sum of the segments' times: shortest paths between kept nodes do not change.

The edge keeps its segments in driving order (positions into the `seg_*` arrays), because
points are still snapped onto the original nodes, which routes leave and reach part-way along an
edge, and because a route is drawn through every original node. Two rules keep edges unique per
ordered pair of kept nodes (the sparse matrix would add parallel edges up, and the route drawing
looks an edge up by its ends): a chain between two nodes already joined keeps its middle node,
a chain that would join a node to itself keeps two, and a ring of interior nodes with no kept
node keeps one of them (then two more, as a loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from cityhealth.emergency.routing.geometry import FloatArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Contracted:
    """A street graph over its kept nodes (*routing nodes*), and the way back to the segments."""

    kept: IntArray  # original index of each routing node
    node_of: IntArray  # routing index of each original node; -1 when merged away or unused
    tail: IntArray  # per edge, routing indices
    head: IntArray
    metres: FloatArray
    road_class: IntArray
    keys: IntArray  # tail * (routing nodes + 1) + head, sorted
    key_edge: IntArray  # the edge of each sorted key
    seg_ptr: IntArray  # edge e's segments are positions seg_ptr[e]:seg_ptr[e + 1], in order
    seg_head: IntArray  # original node each segment arrives at
    seg_rest: FloatArray  # metres from the segment's tail to the end of its edge
    seg_edge: IntArray
    along: IntArray  # (original nodes, 2): positions of the segments leaving an interior node
    segments: int  # segments in the graph before merging

    @property
    def node_count(self) -> int:
        return len(self.kept)

    @property
    def edge_count(self) -> int:
        return len(self.tail)

    def edge_between(self, tail: IntArray, head: IntArray) -> IntArray:
        """Edge from each routing node in `tail` to the one in `head` (the edge must exist)."""
        width = self.node_count + 1
        edges: IntArray = self.key_edge[np.searchsorted(self.keys, tail * width + head)]
        return edges


def contract(
    n: int,
    tail: IntArray,
    head: IntArray,
    metres: FloatArray,
    road_class: IntArray,
    *,
    merge: bool = True,
) -> Contracted:
    """The graph of `n` nodes and directed segments, with interior nodes merged if `merge`.

    Segments must be unique per ordered pair of nodes and have distinct ends.
    """
    if (tail == head).any() or np.unique(tail * n + head).size != tail.size:
        raise ValueError("segments must be unique per ordered pair of distinct nodes")
    interior = _interior_nodes(n, tail, head, road_class) if merge else np.zeros(n, dtype=bool)
    _keep_one_node_per_ring(n, tail, head, interior)
    while True:
        chains = _Chains(n, tail, head, metres, interior)
        middles = chains.clashing_middles()
        if middles.size == 0:
            break
        interior[middles] = False
    return chains.contracted(road_class)


def _interior_nodes(
    n: int, tail: IntArray, head: IntArray, road_class: IntArray
) -> NDArray[np.bool_]:
    pairs = np.unique(np.minimum(tail, head) * n + np.maximum(tail, head))
    neighbours = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    out_degree = np.bincount(tail, minlength=n)
    in_degree = np.bincount(head, minlength=n)
    # With two neighbours and unique segments, 2 out + 2 in is a two-way street through the
    # node, 1 + 1 a one-way street (in from one neighbour, out to the other).
    through = ((out_degree == 2) & (in_degree == 2)) | ((out_degree == 1) & (in_degree == 1))
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, -1)
    for ends in (tail, head):
        np.minimum.at(low, ends, road_class)
        np.maximum.at(high, ends, road_class)
    interior: NDArray[np.bool_] = (neighbours == 2) & through & (low == high)
    return interior


def _keep_one_node_per_ring(
    n: int, tail: IntArray, head: IntArray, interior: NDArray[np.bool_]
) -> None:
    """A ring of interior nodes (a closed way touching nothing else) needs one kept node."""
    both = interior[tail] & interior[head]
    links = csr_array((np.ones(int(both.sum())), (tail[both], head[both])), shape=(n, n))
    count, label = connected_components(links, directed=False)
    nodes = np.flatnonzero(interior)
    size = np.bincount(label[nodes], minlength=count)
    pairs = np.unique(np.minimum(tail[both], head[both]) * n + np.maximum(tail[both], head[both]))
    links_in = np.bincount(label[pairs // n], minlength=count)
    # A path of interior nodes has one link fewer than nodes; a ring as many.
    ring = (size > 0) & (links_in == size)
    first = np.full(count, n)
    np.minimum.at(first, label[nodes], nodes)
    interior[first[ring]] = False


class _Chains:
    """Segments grouped into edges: each edge starts with a segment leaving a kept node and
    follows interior nodes to the next kept node."""

    def __init__(
        self,
        n: int,
        tail: IntArray,
        head: IntArray,
        metres: FloatArray,
        interior: NDArray[np.bool_],
    ) -> None:
        self.n, self.tail, self.head, self.interior = n, tail, head, interior
        count = tail.size
        self.by_tail = np.argsort(tail, kind="stable")
        self.first_out = np.searchsorted(tail[self.by_tail], np.arange(n + 1))
        # The segment after s leaves head[s] towards the neighbour it did not come from; a
        # segment into a kept node is the last of its edge (the sentinel `count` follows it).
        first = self.by_tail[np.minimum(self.first_out[head], count - 1)]
        second = self.by_tail[np.minimum(self.first_out[head] + 1, count - 1)]
        following = np.where(head[first] != tail, first, second)
        following = np.where(interior[head], following, count)
        # Pointer doubling: metres and segments from each segment to the end of its edge, and
        # the last segment of its edge.
        pointer = np.append(following, count)
        rest = np.append(metres, 0.0)
        hops = np.append(np.ones(count, dtype=np.int64), 0)
        last = np.append(np.where(following == count, np.arange(count), following), count)
        for _ in range(64):  # enough for 2**64 segments; only a ring would never end
            rest = rest + rest[pointer]
            hops = hops + hops[pointer]
            last = last[last]
            after = pointer[pointer]
            if np.array_equal(after, pointer):
                break
            pointer = after
        else:
            raise ValueError("a chain of interior nodes has no end")
        self.rest, self.hops = rest[:count], hops[:count]
        # One edge per segment leaving a kept node, numbered in that order.
        self.start = np.flatnonzero(~interior[tail])
        edge_of_last = np.full(count, -1)
        edge_of_last[last[self.start]] = np.arange(self.start.size)
        self.edge_of = edge_of_last[last[:count]]
        self.edge_tail = tail[self.start]
        self.edge_head = head[last[self.start]]
        # Segments by edge, each edge's in driving order (most segments still to go first).
        self.order = np.lexsort((-self.hops, self.edge_of))
        self.seg_ptr = np.searchsorted(self.edge_of[self.order], np.arange(self.start.size + 1))

    def clashing_middles(self) -> IntArray:
        """Nodes to keep on the edges that repeat another edge's ends (the middle one) or join
        a node to itself (two, a third of the way round: one alone would leave the two halves
        of the loop between the same pair of nodes)."""
        keys = self.edge_tail * self.n + self.edge_head
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        hops, first = self.hops[self.start], self.seg_ptr[:-1]
        loop = self.edge_tail == self.edge_head
        twin = ~loop & (counts[inverse] > 1) & (hops >= 2)
        picked = [first[twin] + hops[twin] // 2]
        picked += [first[loop] + hops[loop] // 3, first[loop] + 2 * hops[loop] // 3]
        middles: IntArray = np.unique(self.tail[self.order[np.concatenate(picked)]])
        return middles

    def contracted(self, road_class: IntArray) -> Contracted:
        n, order = self.n, self.order
        used = np.zeros(n, dtype=bool)
        used[self.tail] = used[self.head] = True
        kept = np.flatnonzero(used & ~self.interior)
        node_of = np.full(n, -1)
        node_of[kept] = np.arange(kept.size)
        edge_tail, edge_head = node_of[self.edge_tail], node_of[self.edge_head]
        keys = edge_tail * (kept.size + 1) + edge_head
        key_edge = np.argsort(keys)
        position = np.empty(order.size, dtype=np.int64)
        position[order] = np.arange(order.size)
        along = np.full((n, 2), -1)
        slot = np.arange(order.size) - self.first_out[self.tail[self.by_tail]]
        leaving = self.interior[self.tail[self.by_tail]]
        along[self.tail[self.by_tail][leaving], slot[leaving]] = position[self.by_tail][leaving]
        return Contracted(
            kept=kept,
            node_of=node_of,
            tail=edge_tail,
            head=edge_head,
            metres=self.rest[self.start],
            road_class=road_class[self.start],
            keys=keys[key_edge],
            key_edge=key_edge,
            seg_ptr=self.seg_ptr,
            seg_head=self.head[order],
            seg_rest=self.rest[order],
            seg_edge=self.edge_of[order],
            along=along,
            segments=int(order.size),
        )
