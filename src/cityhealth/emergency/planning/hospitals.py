"""Receiving hospitals: the nearest by straight line to the event's main place.

A straight line, not a route: good enough to name the two or three hospitals to pre-alert; the
dispatcher's routing picks the destination for each patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cityhealth.core.datafiles import read_csv
from cityhealth.emergency.routing.geometry import haversine_m

# The city's hospitals and the central (Ministry-run) ones in the city: both receive 115.
HOSPITAL_FILES = (
    ("facilities", "hanoi_hospitals.csv"),
    ("facilities", "hanoi_central_hospitals.csv"),
)


def general_hospital_rows() -> list[dict[str, str]]:
    """Rows of the general hospitals with coordinates, city and central, in file order."""
    return [
        r
        for parts in HOSPITAL_FILES
        for r in read_csv(*parts)
        if r["kind"] == "general" and r["latitude"] and r["longitude"]
    ]


@dataclass(frozen=True)
class Hospital:
    code: str
    name: str
    kind: str
    lat: float
    lon: float
    straight_km: float


def nearest_hospitals(*, lat: float, lon: float, count: int = 3) -> tuple[Hospital, ...]:
    """The `count` nearest general hospitals with coordinates, nearest first."""
    rows = general_hospital_rows()
    if not rows:
        return ()
    lats = np.array([float(r["latitude"]) for r in rows])
    lons = np.array([float(r["longitude"]) for r in rows])
    km = haversine_m(lat, lon, lats, lons) / 1000
    order = np.argsort(km, kind="stable")[:count]
    return tuple(
        Hospital(
            rows[i]["code"],
            rows[i]["name"],
            rows[i]["kind"],
            float(lats[i]),
            float(lons[i]),
            float(km[i]),
        )
        for i in (int(k) for k in order)
    )
