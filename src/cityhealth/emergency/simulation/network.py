"""The city as the simulation sees it: points (ward centroids, stations, hospitals) and the
travel time between every pair of points in every traffic band of the week.

The matrices come from the live travel model (`TravelModel.travel_seconds`, one reverse
Dijkstra per destination), computed once per distinct congestion level. A year of calls then
costs table look-ups instead of graph searches; the price is that an incident stands at its
ward's centroid rather than at its own address.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from cityhealth.core.datafiles import read_csv
from cityhealth.emergency.planning.hospitals import general_hospital_rows
from cityhealth.emergency.routing import TravelModel, Vehicle

StationSet = Literal[7, 50]
FloatMatrix = NDArray[np.float64]
MINUTES_PER_WEEK = 7 * 24 * 60
# A Monday in Hà Nội time; only the weekday and the hour matter.
WEEK_START = datetime(2026, 1, 5, tzinfo=timezone(timedelta(hours=7)))


@dataclass(frozen=True)
class Network:
    names: tuple[str, ...]  # one per point: ward code, station or hospital code
    latlon: NDArray[np.float64]  # (points, 2)
    wards: NDArray[np.int64]  # point index of each ward centroid
    population: NDArray[np.float64]  # per ward, same order
    stations: NDArray[np.int64]  # point index of each station
    hospitals: NDArray[np.int64]  # point index of each receiving (general) hospital
    seconds: FloatMatrix  # (levels, points, points): travel seconds from row to column
    level_of_minute: NDArray[np.int64]  # minute of the week (Monday 00:00 = 0) → level
    level_names: tuple[str, ...]

    def level_at(self, minute_of_week: int) -> int:
        return int(self.level_of_minute[minute_of_week % MINUTES_PER_WEEK])

    def point_of_ward(self, code: str) -> int:
        return int(self.wards[list(self.names[: len(self.wards)]).index(code)])


def station_rows(*, stations: StationSet) -> list[tuple[str, float, float]]:
    """The 115 centre and its 7 stations; with 50, also one station at every Department of
    Health hospital with known coordinates (36 of 42: six have no coordinates yet, so the
    "50" network has 44 stations; which hospitals host the 2026 stations is unpublished)."""
    rows = [
        (r["code"], float(r["latitude"]), float(r["longitude"]))
        for r in read_csv("facilities", "hanoi_115_stations.csv")
    ]
    if stations == 50:
        rows += [
            (r["code"], float(r["latitude"]), float(r["longitude"]))
            for r in read_csv("facilities", "hanoi_hospitals.csv")
            if r["latitude"] and r["longitude"]
        ]
    return rows


@functools.lru_cache(maxsize=4)
def build_network(*, stations: StationSet, model: TravelModel | None = None) -> Network:
    """The points and matrices for a station set (cached: the matrices take a few seconds)."""
    model = model or TravelModel.shared()
    wards = read_csv("geo", "hanoi_wards_2025.csv")
    hospitals = [
        (r["code"], float(r["latitude"]), float(r["longitude"])) for r in general_hospital_rows()
    ]
    points = [(w["code"], float(w["latitude"]), float(w["longitude"])) for w in wards]
    base = len(points)
    points += station_rows(stations=stations)
    points += [(f"H:{code}", lat, lon) for code, lat, lon in hospitals]
    n_stations = len(points) - base - len(hospitals)
    latlon = np.array([(lat, lon) for _, lat, lon in points], dtype=np.float64)
    level_of_minute, moments, level_names = _levels(model)
    origins = [(float(a), float(b)) for a, b in latlon]
    seconds = np.empty((len(moments), len(points), len(points)), dtype=np.float64)
    for level, moment in enumerate(moments):
        for column, destination in enumerate(origins):
            estimate = model.travel_seconds(
                origins=origins, destination=destination, at=moment, vehicle=Vehicle.CAR
            )
            seconds[level, :, column] = estimate.seconds
    return Network(
        names=tuple(name for name, _, _ in points),
        latlon=latlon,
        wards=np.arange(base, dtype=np.int64),
        population=np.array([float(w["population"]) for w in wards], dtype=np.float64),
        stations=np.arange(base, base + n_stations, dtype=np.int64),
        hospitals=np.arange(base + n_stations, len(points), dtype=np.int64),
        seconds=seconds,
        level_of_minute=level_of_minute,
        level_names=level_names,
    )


def _levels(model: TravelModel) -> tuple[NDArray[np.int64], list[datetime], tuple[str, ...]]:
    """Traffic bands grouped by their car congestion factor: bands with the same factor give
    the same travel times, so one matrix serves them all."""
    factors: dict[float, int] = {}
    moments: list[datetime] = []
    names: list[str] = []
    level_of_minute = np.empty(MINUTES_PER_WEEK, dtype=np.int64)
    for minute in range(MINUTES_PER_WEEK):
        moment = WEEK_START + timedelta(minutes=minute)
        band = model.traffic.band_at(moment)
        factor = band.factor[Vehicle.CAR]
        if factor not in factors:
            factors[factor] = len(moments)
            moments.append(moment)
            names.append(f"{band.label} (car ×{factor:g})")
        level_of_minute[minute] = factors[factor]
    return level_of_minute, moments, tuple(names)
