"""A vehicle moving along a route polyline at the route's average speed."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

LatLon = tuple[float, float]
EARTH_M = 6_371_000.0


def metres_between(a: LatLon, b: LatLon) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_M * math.asin(math.sqrt(min(1.0, h)))


def bearing(a: LatLon, b: LatLon) -> float:
    """Compass heading from `a` to `b`, degrees clockwise from north."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360.0


@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    speed_kmh: float
    heading: float


class Trip:
    """`Trip(points, seconds)`: where the vehicle is `elapsed` seconds after leaving."""

    def __init__(self, points: list[LatLon], seconds: float) -> None:
        if not points:
            raise ValueError("a trip needs at least one point")
        self.points = points if len(points) > 1 else [points[0], points[0]]
        self.cumulative = [0.0]
        for a, b in zip(self.points, self.points[1:], strict=False):
            self.cumulative.append(self.cumulative[-1] + metres_between(a, b))
        self.metres = self.cumulative[-1]
        self.seconds = max(seconds, 1.0)

    @property
    def destination(self) -> LatLon:
        return self.points[-1]

    def done(self, elapsed: float) -> bool:
        return elapsed >= self.seconds

    def at(self, elapsed: float) -> Fix:
        if self.metres <= 0.0 or elapsed >= self.seconds:
            lat, lon = self.points[-1]
            return Fix(lat, lon, 0.0, 0.0)
        target = self.metres * max(elapsed, 0.0) / self.seconds
        index = min(bisect.bisect_right(self.cumulative, target) - 1, len(self.points) - 2)
        a, b = self.points[index], self.points[index + 1]
        span = self.cumulative[index + 1] - self.cumulative[index]
        share = (target - self.cumulative[index]) / span if span > 0 else 0.0
        lat = a[0] + (b[0] - a[0]) * share
        lon = a[1] + (b[1] - a[1]) * share
        speed = self.metres / self.seconds * 3.6
        return Fix(lat, lon, speed, bearing(a, b) if span > 0 else 0.0)
