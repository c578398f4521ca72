"""Who reaches which ward in time: the ward-by-origin travel table and what it says about
coverage. One table serves the recommendation (residents a departure leaves uncovered), the
KPI page (share of residents within 8 and 15 minutes) and the move-up suggestions.

Expected coverage follows Daskin's MEXCLP, as the simulation's dispatcher does: a ward
covered by k free units is served in time with probability 1 − q^k, q being the chance that
a unit is busy. A unit's marginal value is what the city loses in expected coverage when it
leaves; a move-up is the relocation of one standing unit that gains most.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from cityhealth.core.datafiles import read_csv
from cityhealth.core.errors import InvalidInput
from cityhealth.emergency.routing import TravelModel

LatLon = tuple[float, float]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
WARDS_FILE = ("geo", "hanoi_wards_2025.csv")


@dataclass(frozen=True)
class WardPoint:
    code: str
    name: str
    population: int
    lat: float
    lon: float


@lru_cache(maxsize=1)
def ward_points() -> tuple[WardPoint, ...]:
    """Hà Nội's 126 wards: the label point the travel model also uses, and the population."""
    return tuple(
        WardPoint(
            code=row["code"],
            name=row["name"],
            population=int(row["population"] or 0),
            lat=float(row["latitude"]),
            lon=float(row["longitude"]),
        )
        for row in read_csv(*WARDS_FILE)
    )


def ward_travel_table(
    *,
    origins: Sequence[LatLon],
    at: dt.datetime,
    model: TravelModel | None = None,
    wards: Sequence[WardPoint] | None = None,
) -> FloatArray:
    """Seconds from each origin (columns) to each ward's label point (rows); NaN where the
    ward point lies outside the modelled city, inf where nothing answers."""
    wards = ward_points() if wards is None else wards
    table = np.full((len(wards), len(origins)), np.inf)
    if not origins:
        return table
    routing = model or TravelModel.shared()
    for row, ward in enumerate(wards):
        try:
            estimate = routing.travel_seconds(
                origins=list(origins), destination=(ward.lat, ward.lon), at=at
            )
        except InvalidInput:  # a ward point outside the modelled city: no claim made
            table[row] = np.nan
            continue
        table[row] = estimate.seconds
    return table


def quickest(table: FloatArray) -> FloatArray:
    """Per ward, the quickest origin's seconds (NaN where no claim is made, inf if none)."""
    if table.shape[1] == 0:
        return np.full(table.shape[0], np.inf)
    with np.errstate(invalid="ignore"):
        best: FloatArray = np.min(table, axis=1)
    return best


def sole_cover_loss(table: FloatArray, population: IntArray, *, within_s: float) -> IntArray:
    """Per origin, the residents of the wards only that origin reaches within `within_s`."""
    reach = table <= within_s  # NaN compares False
    alone = reach.sum(axis=1) == 1
    result: IntArray = (reach[alone] * population[alone, None]).sum(axis=0).astype(np.int64)
    return result


def marginal_expected(covers: FloatArray, demand: FloatArray, *, busy: float) -> FloatArray:
    """Per unit (rows of `covers`, wards × … transposed), the expected covered demand lost
    if it left: Σ_w d_w (1 − q) q^(k_w − 1) over the wards it covers."""
    k = covers.sum(axis=0)
    weight = demand * (1.0 - busy) * busy ** np.maximum(k - 1.0, 0.0)
    result: FloatArray = covers @ weight
    return result


@dataclass(frozen=True)
class MoveUpChoice:
    unit: int  # row of `unit_covers`
    post: int  # row of `post_covers`
    gain: float  # expected covered share of demand gained


def best_move_up(
    *,
    unit_covers: FloatArray,
    post_covers: FloatArray,
    demand: FloatArray,
    busy: float,
    movable: IntArray,
    min_gain: float,
) -> MoveUpChoice | None:
    """The one relocation worth making, if any: the movable unit that holds least coverage,
    moved to the post where it adds most (both matrices are units/posts × wards, 0/1)."""
    if len(movable) == 0 or len(post_covers) == 0:
        return None
    loss = marginal_expected(unit_covers, demand, busy=busy)
    unit = int(movable[np.argmin(loss[movable])])
    others = np.delete(unit_covers, unit, axis=0)
    k = others.sum(axis=0)
    weight = demand * (1.0 - busy) * busy**k
    gains = post_covers @ weight - loss[unit]
    best = int(np.argmax(gains))
    if gains[best] < min_gain:
        return None
    return MoveUpChoice(unit=unit, post=best, gain=float(gains[best]))
