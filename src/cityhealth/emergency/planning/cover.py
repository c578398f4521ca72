"""Where to put first-aid posts and standby ambulances: maximal covering over the crowd.

Demand: every place is split into up to seven points (its centre and a ring at 60% of its
radius), each carrying an equal share of the place's crowd. Posts are reached on foot, through
the crowd; ambulances by road, with the routing model's travel times at the event's start.

Sites of one kind are chosen by crowd covered in time, then crowd covered twice, then the
crowd-weighted time to the nearest site, in that strict order (see `mclp`): extra ambulances
spread over the crowd instead of queueing beside the first one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cityhealth.emergency.planning import errors, mclp
from cityhealth.emergency.planning.estimate import CasualtyEstimate
from cityhealth.emergency.planning.event import (
    EventSpec,
    Locator,
    check_event,
    check_point,
    default_locator,
)
from cityhealth.emergency.planning.hospitals import Hospital, nearest_hospitals
from cityhealth.emergency.routing.geometry import haversine_m, to_latlon, to_xy

FloatArray = NDArray[np.float64]
LatLon = tuple[float, float]
# Seconds by road from every origin to one destination, leaving at a time.
DriveTimes = Callable[[Sequence[LatLon], LatLon, datetime], FloatArray]

# Weidmann (1993) fundamental diagram for pedestrians: free speed 1.34 m/s, falling to 0 at
# 5.4 people/m². A responder pushing through the crowd is held to 0.2 m/s at worst (assumed).
FREE_WALK_MS = 1.34
JAM_DENSITY = 5.4
MIN_WALK_MS = 0.2
WALK_DETOUR = 1.3  # walked path / straight line between barriers and stands (assumed)
POINTS_PER_PLACE = 7
AMBULANCE_OFFSET_M = 150.0  # generated standby points sit this far outside a place's edge


class SiteKind(StrEnum):
    POST = "post"
    AMBULANCE = "ambulance"


@dataclass(frozen=True)
class CandidateSite:
    name: str
    lat: float
    lon: float
    kind: SiteKind


@dataclass(frozen=True)
class DemandPoint:
    name: str
    place: str
    lat: float
    lon: float
    crowd: float
    density: float


@dataclass(frozen=True)
class ChosenSite:
    """A chosen site and why: what it alone reaches, what it backs up, whom it is nearest to."""

    name: str
    lat: float
    lon: float
    kind: SiteKind
    covers: tuple[str, ...]  # demand point names
    crowd_covered: float  # crowd of those points (shared with other sites covering them)
    crowd_only_here: float = 0.0  # crowd no other chosen site reaches in time
    crowd_backed_up: float = 0.0  # crowd that would lose its second site in time without it
    crowd_nearest: float = 0.0  # crowd for which it is the nearest chosen site


@dataclass(frozen=True)
class Layer:
    """One kind of site: what was chosen and how much of the crowd it reaches in time."""

    kind: SiteKind
    sites: tuple[ChosenSite, ...]
    covered_share: float
    greedy_share: float  # the greedy heuristic on the same problem, for comparison
    uncovered: tuple[DemandPoint, ...]
    twice_share: float = 0.0  # crowd share reached in time by two sites or more
    mean_nearest_minutes: float = 0.0  # crowd-weighted time to the nearest chosen site


@dataclass(frozen=True)
class CoverPlan:
    event: EventSpec
    estimate: CasualtyEstimate
    coverage_minutes: float
    demand: tuple[DemandPoint, ...]
    posts: Layer
    ambulances: Layer
    hospitals: tuple[Hospital, ...]

    def as_record(self) -> dict[str, Any]:
        from cityhealth.emergency.planning.render import plan_record

        return plan_record(self)


def walking_speed(density: float) -> float:
    """Metres per second through a crowd of `density` people/m² (Weidmann 1993)."""
    if density <= 0:
        return FREE_WALK_MS
    speed = FREE_WALK_MS * (1 - math.exp(-1.913 * (1 / density - 1 / JAM_DENSITY)))
    return max(speed, MIN_WALK_MS)


def plan_cover(
    *,
    event: EventSpec,
    estimate: CasualtyEstimate,
    candidate_sites: Sequence[CandidateSite] | None = None,
    ambulances: int | None = None,
    posts: int | None = None,
    coverage_minutes: float = 8.0,
    backup: bool = True,
    drive_times: DriveTimes | None = None,
    inside_city: Locator | None = None,
) -> CoverPlan:
    """Choose posts and standby points covering the most people within `coverage_minutes`.

    `ambulances` / `posts` default to the estimate's recommendation; `candidate_sites` default to
    points generated around every place. `backup=False` drops the double-coverage stage (sites
    are then spread by time alone once coverage is maximal). Raises InvalidInput for bad input.
    """
    inside = inside_city or default_locator()
    check_event(event, inside_city=inside)
    if not (math.isfinite(coverage_minutes) and 0 < coverage_minutes <= 60):
        raise errors.bad_minutes(minutes=coverage_minutes)
    n_amb = estimate.recommended.ambulances if ambulances is None else ambulances
    n_post = estimate.recommended.posts if posts is None else posts
    for field, count in (("ambulances", n_amb), ("posts", n_post)):
        if count < 0:
            raise errors.bad_count(field=field, count=count)
    if candidate_sites is None:
        candidates = generate_candidates(event, inside_city=inside)
    else:
        candidates = tuple(candidate_sites)
        for index, site in enumerate(candidates):
            check_point(site.lat, site.lon, field=f"candidate_sites[{index}]", inside_city=inside)
    demand = demand_points(event)
    limit = coverage_minutes * 60
    post_sites = [s for s in candidates if s.kind is SiteKind.POST]
    amb_sites = [s for s in candidates if s.kind is SiteKind.AMBULANCE]
    _check_enough("posts", n_post, post_sites)
    _check_enough("ambulances", n_amb, amb_sites)
    walk = walk_seconds(demand, post_sites)
    drive_fn = drive_times or default_drive_times()
    drive = drive_seconds(demand, amb_sites, event.start, drive_fn)
    return CoverPlan(
        event=event,
        estimate=estimate,
        coverage_minutes=coverage_minutes,
        demand=demand,
        posts=_layer(SiteKind.POST, demand, post_sites, walk, limit, n_post, backup),
        ambulances=_layer(SiteKind.AMBULANCE, demand, amb_sites, drive, limit, n_amb, backup),
        hospitals=nearest_hospitals(lat=demand[0].lat, lon=demand[0].lon),
    )


def demand_points(event: EventSpec) -> tuple[DemandPoint, ...]:
    points: list[DemandPoint] = []
    for place in event.places:
        # Small crowds stay one point; a ring point per started 5,000 people, at most six.
        ring = min(POINTS_PER_PLACE - 1, math.ceil(place.crowd / 5_000) - 1)
        offsets = [(0.0, 0.0), *_ring(0.6 * place.radius_m, ring)]
        lats, lons = _around(place.lat, place.lon, offsets)
        share = place.crowd / len(offsets)
        for k, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
            points.append(
                DemandPoint(f"{place.name} #{k + 1}", place.name, lat, lon, share, place.density)
            )
    return tuple(points)


def generate_candidates(event: EventSpec, *, inside_city: Locator) -> tuple[CandidateSite, ...]:
    """Posts at every place's centre and on its edge; ambulance points just outside the edge."""
    sites: list[CandidateSite] = []
    for place in event.places:
        r = place.radius_m
        for kind, radius, count in (
            (SiteKind.POST, 0.0, 1),
            (SiteKind.POST, r, 6),
            (SiteKind.AMBULANCE, r + AMBULANCE_OFFSET_M, 8),
        ):
            offsets = [(0.0, 0.0)] if radius == 0 else _ring(radius, count)
            lats, lons = _around(place.lat, place.lon, offsets)
            for k, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
                if inside_city(lat, lon):
                    label = "centre" if radius == 0 else f"{kind} {k + 1}"
                    sites.append(CandidateSite(f"{place.name}: {label}", lat, lon, kind))
    return tuple(sites)


def walk_seconds(demand: Sequence[DemandPoint], sites: Sequence[CandidateSite]) -> FloatArray:
    """Demand × site walking time: detoured straight line at the crowd's walking speed."""
    if not sites:
        return np.zeros((len(demand), 0))
    d = haversine_m(
        np.array([[p.lat] for p in demand]),
        np.array([[p.lon] for p in demand]),
        np.array([[s.lat for s in sites]]),
        np.array([[s.lon for s in sites]]),
    )
    speed = np.array([[walking_speed(p.density)] for p in demand])
    result: FloatArray = d * WALK_DETOUR / speed
    return result


def drive_seconds(
    demand: Sequence[DemandPoint],
    sites: Sequence[CandidateSite],
    at: datetime,
    drive: DriveTimes,
) -> FloatArray:
    matrix = np.zeros((len(demand), len(sites)))
    if not sites:
        return matrix
    origins = [(s.lat, s.lon) for s in sites]
    for i, point in enumerate(demand):
        matrix[i] = drive(origins, (point.lat, point.lon), at)
    return matrix


def default_drive_times() -> DriveTimes:
    """Car times from the routing model. Road closures for the event are not in it, so these
    are optimistic inside a closed perimeter."""
    from cityhealth.emergency.routing import TravelModel, Vehicle

    model = TravelModel.shared()

    def drive(origins: Sequence[LatLon], destination: LatLon, at: datetime) -> FloatArray:
        estimate = model.travel_seconds(
            origins=origins, destination=destination, at=at, vehicle=Vehicle.CAR
        )
        return estimate.seconds

    return drive


def _layer(
    kind: SiteKind,
    demand: tuple[DemandPoint, ...],
    sites: Sequence[CandidateSite],
    seconds: FloatArray,
    limit: float,
    count: int,
    backup: bool,
) -> Layer:
    cover: mclp.BoolMatrix = np.asarray(seconds <= limit, dtype=bool)
    weights = np.array([p.crowd for p in demand], dtype=np.float64)
    chosen = mclp.solve(cover=cover, weights=weights, count=count, times=seconds, backup=backup)
    greedy = mclp.greedy(cover=cover, weights=weights, count=count)
    total = float(weights.sum())
    reached: NDArray[np.bool_] = np.zeros(len(demand), dtype=bool)
    times_reached = np.zeros(len(demand), dtype=np.int64)
    nearest = np.zeros(len(demand), dtype=np.int64)
    mean_minutes = 0.0
    if len(chosen):
        times_reached = cover[:, chosen].sum(axis=1)
        reached = times_reached >= 1
        nearest = mclp.nearest_site(times=seconds, chosen=chosen)
        closest = seconds[np.arange(len(demand)), chosen[nearest]]
        mean_minutes = float(weights @ closest) / total / 60
    picked = []
    for position, j in enumerate(chosen):
        hit = cover[:, j]
        site = sites[int(j)]
        picked.append(
            ChosenSite(
                site.name,
                site.lat,
                site.lon,
                kind,
                tuple(demand[i].name for i in np.flatnonzero(hit)),
                float(weights[hit].sum()),
                crowd_only_here=float(weights[hit & (times_reached == 1)].sum()),
                crowd_backed_up=float(weights[hit & (times_reached == 2)].sum()),
                crowd_nearest=float(weights[nearest == position].sum()),
            )
        )
    return Layer(
        kind=kind,
        sites=tuple(picked),
        covered_share=float(weights[reached].sum()) / total,
        greedy_share=mclp.covered_weight(cover=cover, weights=weights, chosen=greedy) / total,
        uncovered=tuple(p for p, ok in zip(demand, reached.tolist(), strict=True) if not ok),
        twice_share=float(weights[times_reached >= 2].sum()) / total,
        mean_nearest_minutes=mean_minutes,
    )


def _check_enough(field: str, asked: int, sites: Sequence[CandidateSite]) -> None:
    if asked > len(sites):
        raise errors.too_many_sites(field=field, asked=asked, candidates=len(sites))


def _ring(radius: float, count: int) -> list[tuple[float, float]]:
    return [
        (radius * math.cos(2 * math.pi * k / count), radius * math.sin(2 * math.pi * k / count))
        for k in range(count)
    ]


def _around(
    lat: float, lon: float, offsets: Sequence[tuple[float, float]]
) -> tuple[list[float], list[float]]:
    x0, y0 = to_xy([lat], [lon])
    xs = x0[0] + np.array([dx for dx, _ in offsets])
    ys = y0[0] + np.array([dy for _, dy in offsets])
    lats, lons = to_latlon(xs, ys)
    return [float(v) for v in lats], [float(v) for v in lons]
