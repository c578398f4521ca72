"""The calls to simulate: generated (Poisson by hour, ward by population) or replayed from a
recorded day. Every random draw a call needs (on-scene time, transport, handover) is made
here, before any dispatching, so two policies run on the same seed face identical calls
(common random numbers) and their difference is not blurred by luck."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.simulation.network import Network
from cityhealth.emergency.simulation.params import (
    HOURLY_PROFILE,
    PRIORITY_MIX,
    TRANSPORT_PROBABILITY,
    Scenario,
)

PRIORITIES = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
# A recorded day's CSV header, as `read_recorded_day` reads it and `export.write_day` writes it.
REPLAY_COLUMNS = ("received_at", "latitude", "longitude", "priority")


class ReplayError(ValueError):
    """A recorded day that cannot be replayed; the message names the line."""


@dataclass(frozen=True)
class RecordedCall:
    at_s: float  # seconds after the replayed day's midnight
    point: int  # ward centroid point in the network
    priority: int  # 0 = P1 … 3 = P4


@dataclass(frozen=True)
class RecordedDay:
    calls: tuple[RecordedCall, ...]
    start_minute_of_week: int  # the day's midnight, counted from Monday 00:00


@dataclass(frozen=True)
class Calls:
    at_s: NDArray[np.float64]  # sorted call times, seconds from the start
    point: NDArray[np.int64]
    priority: NDArray[np.int64]
    on_scene_s: NDArray[np.float64]
    transport: NDArray[np.bool_]
    handover_s: NDArray[np.float64]
    start_minute_of_week: int
    horizon_s: float  # the simulated span: days × 86,400 s

    def __len__(self) -> int:
        return len(self.at_s)


def generate_calls(*, scenario: Scenario, network: Network, rng: np.random.Generator) -> Calls:
    rate = scenario.calls_per_day * scenario.demand_factor / 24.0
    profile = np.asarray(HOURLY_PROFILE, dtype=np.float64)
    profile = profile / profile.mean()
    per_hour = rng.poisson(rate * np.tile(profile, scenario.days))
    hour = np.repeat(np.arange(len(per_hour), dtype=np.float64), per_hour)
    at_s = np.sort((hour + rng.random(len(hour))) * 3600.0)
    weights = network.population / network.population.sum()
    ward = rng.choice(len(weights), size=len(at_s), p=weights)
    priority = rng.choice(4, size=len(at_s), p=np.asarray(PRIORITY_MIX))
    return _with_service(
        at_s=at_s,
        point=network.wards[ward],
        priority=priority.astype(np.int64),
        scenario=scenario,
        rng=rng,
        start_minute_of_week=0,
        horizon_s=scenario.days * 86_400.0,
    )


def replay_calls(*, day: RecordedDay, scenario: Scenario, rng: np.random.Generator) -> Calls:
    order = sorted(day.calls, key=lambda c: c.at_s)
    return _with_service(
        at_s=np.array([c.at_s for c in order], dtype=np.float64),
        point=np.array([c.point for c in order], dtype=np.int64),
        priority=np.array([c.priority for c in order], dtype=np.int64),
        scenario=scenario,
        rng=rng,
        start_minute_of_week=day.start_minute_of_week,
        horizon_s=86_400.0,
    )


def read_recorded_day(*, path: Path, network: Network, model: TravelModel) -> RecordedDay:
    """CSV with `received_at` (ISO 8601, local time), `latitude`, `longitude`, `priority`
    (P1–P4), all on one day. Each call is placed at the centroid of its ward."""
    ward_point = {network.names[i]: int(i) for i in network.wards}
    calls: list[RecordedCall] = []
    first: datetime | None = None
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ReplayError(f"cannot read {path}: {error.strerror}") from error
    for line, row in enumerate(rows, start=2):
        try:
            at = datetime.fromisoformat(row["received_at"].strip())
            lat, lon = float(row["latitude"]), float(row["longitude"])
            priority = PRIORITIES[row["priority"].strip().upper()]
        except (KeyError, ValueError, AttributeError) as error:
            raise ReplayError(f"{path.name} line {line}: unreadable row ({error})") from error
        at = at.replace(tzinfo=None)
        first = first or at.replace(hour=0, minute=0, second=0, microsecond=0)
        if at.date() != first.date():
            raise ReplayError(f"{path.name} line {line}: not on {first.date()} (one day only)")
        code = model.ward_of(lat, lon)
        if code is None:
            raise ReplayError(f"{path.name} line {line}: ({lat}, {lon}) is outside Hà Nội")
        calls.append(RecordedCall((at - first).total_seconds(), ward_point[code], priority))
    if first is None:
        raise ReplayError(f"{path.name}: no calls")
    return RecordedDay(calls=tuple(calls), start_minute_of_week=first.weekday() * 24 * 60)


def _with_service(
    *,
    at_s: NDArray[np.float64],
    point: NDArray[np.int64],
    priority: NDArray[np.int64],
    scenario: Scenario,
    rng: np.random.Generator,
    start_minute_of_week: int,
    horizon_s: float,
) -> Calls:
    timings = scenario.timings
    shape = 1.0 / timings.cv**2
    scene_mean = np.asarray(timings.on_scene_mean, dtype=np.float64)[priority]
    transport_p = np.asarray(TRANSPORT_PROBABILITY, dtype=np.float64)[priority]
    return Calls(
        at_s=at_s,
        point=point,
        priority=priority,
        on_scene_s=rng.gamma(shape, scene_mean / shape),
        transport=rng.random(len(at_s)) < transport_p,
        handover_s=rng.gamma(shape, timings.handover_mean / shape, size=len(at_s)),
        start_minute_of_week=start_minute_of_week,
        horizon_s=horizon_s,
    )
