"""Maximal covering location (Church & ReVelle 1974), exact by MILP and by a greedy heuristic.

`cover[i, j]` says site j reaches demand point i in time. Choose `count` sites to maximise the
weight of covered demand.

Plain MCLP leaves the choice among equally covering sets to the solver, and those ties are the
rule at events: when one standby point reaches the whole crowd, any set containing it covers
100%, and HiGHS returned the neighbouring points 6, 7 and 8 of one stadium, or eight of twelve
ambulances on one street of a parade. So the sites are chosen by three objectives in strict
order (lexicographic), each solved with the ones before it held at their optimum:

1. the crowd covered within the time (MCLP);
2. the crowd covered by a second site as well: the spare when the first unit is out on a call
   (double coverage, as in BACOP, Hogan & ReVelle 1986, and MEXCLP, Daskin 1983);
3. the crowd-weighted time to the nearest chosen site (p-median, Hakimi 1964): among the sets
   still tied, the one whose sites sit closest to the people, which spreads them over the crowd.
   A site next to another one adds nothing here, so neighbours are not stacked.

Holding a stage at its optimum, rather than adding the objectives with weights, is what keeps
the primary coverage exactly optimal: a weighted sum (Hogan & ReVelle's backup weight) gives up
first cover for backup whenever that pays, and with real-valued crowds no weight small enough
can be fixed in advance. After the last stage the chosen set is checked against the first
stage's: if solver tolerances ever cost any first cover, the first stage's set is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, hstack, identity, kron, vstack

BoolMatrix = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Weights are scaled to sum to 1 and times to at most 1 before solving, so one absolute
# tolerance fits every stage: a later stage may give up at most a millionth of the crowd on an
# earlier objective, which is within HiGHS's own tolerances. First cover is then checked exactly.
STAGE_SLACK = 1e-6
# The coverage stages are solved to proven optimality. The time stage only breaks ties, and on
# the symmetric layouts of an event proving a p-median's last 0.1% can take HiGHS long; it stops
# at that gap or at its time limit with the best set found, which still meets every floor.
TIME_STAGE_GAP = 1e-3
FIRST_TIME_LIMIT_S = 20.0
LATER_TIME_LIMIT_S = 5.0


@dataclass(frozen=True)
class _Stage:
    objective: FloatArray  # over all variables, to maximise
    value: Callable[[IntArray], float]  # its exact value for a chosen set
    gap: float


@dataclass(frozen=True)
class _Model:
    """Variables [x (sites, binary) | y1, y2 (first, second cover) | z (assignment)].

    y1_i + y2_i <= sum_j a_ij x_j and y2_i <= y1_i: each cover level needs its own site.
    z_ij <= x_j and sum_j z_ij = 1: demand point i is served by one chosen site, its nearest
    once the time is minimised.
    z need not be declared integer: for fixed binary x the optimum puts each at 0 or 1. y could
    stay continuous for the same reason, but with the floors of the later stages HiGHS then
    returned sets it called optimal that were not (found against brute force on small random
    instances); declared binary, it does not.
    """

    sites: int
    count: int
    binary: int  # x and y come first
    constraints: tuple[LinearConstraint, ...]
    stages: tuple[_Stage, ...]

    @property
    def size(self) -> int:
        return len(self.stages[0].objective)


def solve(
    *,
    cover: BoolMatrix,
    weights: FloatArray,
    count: int,
    times: FloatArray | None = None,
    backup: bool = True,
) -> IntArray:
    """Indices of the chosen sites (HiGHS through `scipy.optimize.milp`).

    `times[i, j]` (seconds from site j to demand point i) enables the spreading stage; without
    it only coverage, and with `backup` double coverage, decide.
    """
    demand, sites = cover.shape
    if count <= 0 or sites == 0:
        return np.zeros(0, dtype=np.int64)
    total = float(weights.sum())
    w = weights / total if total > 0 else np.full(demand, 1.0 / max(demand, 1))
    model = _model(cover=cover, weights=w, count=count, times=times, backup=backup)
    primary, *later = model.stages
    first = _run(model, primary, floors=(), time_limit=FIRST_TIME_LIMIT_S)
    if first is None:  # no solution in time: fall back to the heuristic
        return greedy(cover=cover, weights=weights, count=count)
    best = first
    # Each floor is the exact value of the set found, not the solver's reading of it, so that
    # tolerances do not pile up from stage to stage.
    floors = [(primary.objective, primary.value(best))]
    for stage in later:
        found = _run(model, stage, floors=floors, time_limit=LATER_TIME_LIMIT_S)
        if found is None:  # keep what the stages before found
            break
        best = found
        floors.append((stage.objective, stage.value(best)))
    if covered_weight(cover=cover, weights=weights, chosen=best) < covered_weight(
        cover=cover, weights=weights, chosen=first
    ) - 1e-9 * max(total, 1.0):
        return first
    return best


def _model(
    *, cover: BoolMatrix, weights: FloatArray, count: int, times: FloatArray | None, backup: bool
) -> _Model:
    demand, sites = cover.shape
    spread = times is not None and count < sites  # needs times and a choice to make
    sizes = {"x": sites, "y1": demand, "y2": demand if backup else 0}
    sizes["z"] = demand * sites if spread else 0
    offset = dict(zip(sizes, np.cumsum([0, *sizes.values()])[:-1].tolist(), strict=True))
    size = sum(sizes.values())
    rows: list[Any] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def add(parts: dict[str, Any], low: float, high: float) -> None:
        height = next(iter(parts.values())).shape[0]
        blocks = [parts.get(name, csr_array((height, n))) for name, n in sizes.items() if n]
        rows.append(hstack(blocks))
        lower.append(np.full(height, low))
        upper.append(np.full(height, high))

    a = csr_array(cover.astype(np.float64))
    eye = identity(demand, format="csr")
    add({"x": -a, "y1": eye, **({"y2": eye} if backup else {})}, -np.inf, 0.0)
    if backup:
        add({"y1": -eye, "y2": eye}, -np.inf, 0.0)
    if spread:
        # z is indexed (demand point, site), site fastest.
        each_site = kron(np.ones((demand, 1)), identity(sites))
        add({"x": -each_site, "z": identity(demand * sites, format="csr")}, -np.inf, 0.0)
        add({"z": kron(identity(demand), np.ones((1, sites)))}, 1.0, 1.0)
    picks = np.zeros(size)
    picks[:sites] = 1.0
    constraints = (
        LinearConstraint(vstack(rows).tocsr(), np.concatenate(lower), np.concatenate(upper)),
        LinearConstraint(picks.reshape(1, -1), count, count),
    )

    def vector(name: str, values: FloatArray) -> FloatArray:
        result = np.zeros(size)
        result[offset[name] : offset[name] + len(values)] = values
        return result

    stages = [
        _Stage(
            vector("y1", weights),
            lambda c: covered_weight(cover=cover, weights=weights, chosen=c),
            0.0,
        )
    ]
    if backup:
        stages.append(
            _Stage(
                vector("y2", weights),
                lambda c: twice_covered_weight(cover=cover, weights=weights, chosen=c),
                0.0,
            )
        )
    if spread:
        assert times is not None
        raw = np.asarray(times, dtype=np.float64)
        finite = np.isfinite(raw)
        top = float(raw[finite].max()) if finite.any() else 0.0
        # Scaled to at most 1; an unreachable pair counts as the slowest.
        scaled = np.where(finite, raw / top if top > 0 else 0.0, 1.0)
        stages.append(
            _Stage(
                vector("z", -(weights[:, None] * scaled).ravel()),  # maximised, so negated
                lambda c: -float(weights @ scaled[:, c].min(axis=1)),
                TIME_STAGE_GAP,
            )
        )
    return _Model(sites, count, sites + sizes["y1"] + sizes["y2"], constraints, tuple(stages))


def _run(
    model: _Model,
    stage: _Stage,
    *,
    floors: Sequence[tuple[FloatArray, float]],
    time_limit: float,
) -> IntArray | None:
    """Maximise the stage's objective keeping every earlier one at its optimum (less the slack)."""
    constraints = list(model.constraints)
    constraints += [
        LinearConstraint(vector.reshape(1, -1), value - STAGE_SLACK, np.inf)
        for vector, value in floors
    ]
    integrality = np.zeros(model.size)
    integrality[: model.binary] = 1
    result = milp(
        -stage.objective,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": stage.gap},
    )
    if result.x is None:
        return None
    x = np.asarray(result.x[: model.sites])
    return np.sort(np.argsort(-x, kind="stable")[: model.count]).astype(np.int64)


def greedy(*, cover: BoolMatrix, weights: FloatArray, count: int) -> IntArray:
    """Add, one at a time, the site covering the most still-uncovered weight."""
    covered = np.zeros(cover.shape[0], dtype=bool)
    chosen: list[int] = []
    for _ in range(min(count, cover.shape[1])):
        gain = (cover & ~covered[:, None]).T.astype(np.float64) @ weights
        gain[chosen] = -1.0
        best = int(np.argmax(gain))
        chosen.append(best)
        covered |= cover[:, best]
    return np.sort(np.asarray(chosen, dtype=np.int64))


def covered_weight(*, cover: BoolMatrix, weights: FloatArray, chosen: IntArray) -> float:
    return float(weights[cover[:, chosen].any(axis=1)].sum()) if len(chosen) else 0.0


def twice_covered_weight(*, cover: BoolMatrix, weights: FloatArray, chosen: IntArray) -> float:
    """Weight of the demand reached by at least two of the chosen sites."""
    if len(chosen) < 2:
        return 0.0
    return float(weights[cover[:, chosen].sum(axis=1) >= 2].sum())


def nearest_site(*, times: FloatArray, chosen: IntArray) -> IntArray:
    """For every demand point, the position in `chosen` of its nearest chosen site."""
    return np.asarray(np.argmin(times[:, chosen], axis=1), dtype=np.int64)
