"""Maximal covering location (Church & ReVelle 1974), exact by MILP and by a greedy heuristic.

`cover[i, j]` says site j reaches demand point i in time. Choose `count` sites to maximise the
weight of covered demand. The backup variant (Hogan & ReVelle 1986) also rewards demand covered
by a second site, at `backup_weight` of the first cover, so that a busy unit leaves a spare.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array, hstack, identity, vstack

BoolMatrix = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def solve(
    *, cover: BoolMatrix, weights: FloatArray, count: int, backup_weight: float = 0.0
) -> IntArray:
    """Indices of the chosen sites (HiGHS through `scipy.optimize.milp`)."""
    demand, sites = cover.shape
    if count <= 0 or sites == 0:
        return np.zeros(0, dtype=np.int64)
    backup = backup_weight > 0
    levels = 2 if backup else 1
    a = csr_array(cover.astype(np.float64))
    eye = identity(demand, format="csr")
    # Variables: x (sites, binary), y1 (first cover), y2 (second cover; only with backup).
    # y1_i + y2_i <= sum_j a_ij x_j : each cover level needs its own site.
    rows = [hstack([-a, eye] + ([eye] if backup else []))]
    upper = [np.zeros(demand)]
    if backup:
        rows.append(hstack([csr_array((demand, sites)), -eye, eye]))  # y2 <= y1
        upper.append(np.zeros(demand))
    picks = np.concatenate([np.ones(sites), np.zeros(demand * levels)])
    constraints = [
        LinearConstraint(vstack(rows).tocsr(), -np.inf, np.concatenate(upper)),
        LinearConstraint(picks.reshape(1, -1), count, count),
    ]
    objective = np.concatenate([np.zeros(sites), -weights] + ([-backup_weight * weights] * backup))
    # y need not be declared integer: for fixed binary x the optimum puts each y at 0 or 1.
    integrality = np.concatenate([np.ones(sites), np.zeros(demand * levels)])
    result = milp(
        objective,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(0, 1),
        options={"time_limit": 20.0},
    )
    if result.x is None:  # no solution in time: fall back to the heuristic
        return greedy(cover=cover, weights=weights, count=count)
    x = np.asarray(result.x[:sites])
    return np.sort(np.argsort(-x, kind="stable")[:count]).astype(np.int64)


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
