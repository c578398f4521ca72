"""Simulated crew devices (AVL): units driven along the roads of the travel model.

A unit sent to an incident drives from where it is to the incident and waits there; any
other unit makes random trips near where it started. Each device takes a fix every
`interval` seconds of simulated time and posts its fixes in batches of `batch`. To exercise
the console the way real devices do, some fixes are held back (a tunnel) and sent late in
reverse order, and one device goes silent (a flat battery) so the stale-GPS alert shows.

Fixes are stamped with the wall-clock time they stand for: `speedup` makes vehicles move
faster, never report from the future (the server refuses that).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cityhealth.emergency.feeds.client import DispatchClient, FeedError, Position
from cityhealth.emergency.feeds.trips import LatLon, Trip, metres_between
from cityhealth.emergency.routing import RoutingError, TravelModel, Vehicle

CENTRE: LatLon = (21.0285, 105.8542)  # Hoàn Kiếm: where a unit with no known position starts
ROAM_METRES = 3000.0  # how far from its start a free unit wanders
FALLBACK_KMH = 30.0  # when the travel model has no route: a straight line at city speed
LATE_SHARE = 0.05  # fixes that start a tunnel
MAX_HELD = 3  # fixes held back in a tunnel before they are sent together


@dataclass(frozen=True)
class UnitStart:
    code: str
    origin: LatLon | None  # None: unknown, start near the centre
    destination: LatLon | None = None  # the incident, if it has one


@dataclass
class _Device:
    code: str
    home: LatLon
    trip: Trip
    to_incident: bool
    leg_started: float = 0.0  # simulated second the current trip began
    buffer: list[Position] = field(default_factory=list)
    held: list[Position] = field(default_factory=list)
    silent: bool = False


@dataclass(frozen=True)
class Batch:
    code: str
    positions: list[Position]


def starts_from_api(client: DispatchClient) -> list[UnitStart]:
    """The units and where their incidents are, read over the API (needs `dispatch`)."""
    places = {
        i["number"]: (i["latitude"], i["longitude"])
        for i in client.list_incidents()
        if i.get("latitude") is not None and i.get("longitude") is not None
    }
    return [_start(unit, places) for unit in client.list_units()]


def _start(unit: dict[str, Any], places: dict[str, LatLon]) -> UnitStart:
    origin = None
    if unit.get("latitude") is not None and unit.get("longitude") is not None:
        origin = (float(unit["latitude"]), float(unit["longitude"]))
    return UnitStart(str(unit["code"]), origin, places.get(unit.get("incident") or ""))


class AvlSimulator:
    def __init__(
        self,
        *,
        units: list[UnitStart],
        started_at: dt.datetime,
        seed: int = 1,
        interval: float = 5.0,
        speedup: float = 1.0,
        batch: int = 1,
        late_share: float = LATE_SHARE,
        silent_after: float | None = None,
        model: TravelModel | None = None,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 — a repeatable simulation, not a secret
        self.model = model or TravelModel.shared()
        self.started_at = started_at
        self.interval = interval
        self.speedup = speedup
        self.batch = max(1, batch)
        self.late_share = late_share
        self.silent_after = silent_after
        self.elapsed = 0.0  # simulated seconds since the start
        self.devices = [self._device(start) for start in units]
        # The device that will fall silent: one on a job if any (that is when it matters).
        on_job = [d for d in self.devices if d.to_incident] or self.devices
        self.silent_code = on_job[0].code if on_job and silent_after is not None else None

    def _device(self, start: UnitStart) -> _Device:
        home = start.origin or self._near(CENTRE, 1500.0)
        if start.destination is not None:
            return _Device(start.code, home, self._trip(home, start.destination), True)
        return _Device(start.code, home, self._trip(home, self._near(home, ROAM_METRES)), False)

    def _near(self, point: LatLon, metres: float) -> LatLon:
        distance = metres * math.sqrt(self.rng.random())
        angle = self.rng.uniform(0.0, 2 * math.pi)
        dlat = distance * math.cos(angle) / 111_320.0
        dlon = distance * math.sin(angle) / (111_320.0 * math.cos(math.radians(point[0])))
        return (point[0] + dlat, point[1] + dlon)

    def _trip(self, origin: LatLon, destination: LatLon) -> Trip:
        at = self.started_at + dt.timedelta(seconds=self.elapsed)
        try:
            route = self.model.route(origin, destination, at=at, vehicle=Vehicle.CAR)
            return Trip(list(route.points), route.seconds)
        except RoutingError:
            seconds = metres_between(origin, destination) / (FALLBACK_KMH / 3.6)
            return Trip([origin, destination], seconds)

    def tick(self) -> list[Batch]:
        """Advance `interval` simulated seconds; the batches the devices send now."""
        self.elapsed += self.interval
        stamp = self.started_at + dt.timedelta(seconds=self.elapsed / self.speedup)
        batches: list[Batch] = []
        for device in self.devices:
            if self._falls_silent(device):
                continue
            fix = device.trip.at(self.elapsed - device.leg_started)
            position = Position(fix.latitude, fix.longitude, stamp, fix.speed_kmh, fix.heading)
            self._next_leg_if_arrived(device)
            if device.held or self.rng.random() < self.late_share:
                device.held.append(position)  # in a tunnel: nothing goes out
                if len(device.held) < MAX_HELD:
                    continue
                # Out of the tunnel: the backlog goes out newest first, behind any buffer.
                device.buffer.extend(reversed(device.held))
                device.held.clear()
            else:
                device.buffer.append(position)
            if len(device.buffer) >= self.batch:
                batches.append(Batch(device.code, device.buffer))
                device.buffer = []
        return batches

    def _falls_silent(self, device: _Device) -> bool:
        if device.code == self.silent_code and self.silent_after is not None:
            device.silent = device.silent or self.elapsed >= self.silent_after
        return device.silent

    def _next_leg_if_arrived(self, device: _Device) -> None:
        if device.to_incident or not device.trip.done(self.elapsed - device.leg_started):
            return  # a unit at its incident stays there
        here = device.trip.destination
        # Free units alternate: somewhere near home, then back home.
        target = device.home if metres_between(here, device.home) > 200 else None
        device.trip = self._trip(here, target or self._near(device.home, ROAM_METRES))
        device.leg_started = self.elapsed


@dataclass
class AvlRun:
    requests: int = 0
    sent: int = 0
    stored: int = 0
    rejected: int = 0
    failed: list[str] = field(default_factory=list)


def run_avl(
    *,
    client: DispatchClient,
    simulator: AvlSimulator,
    ticks: int,
    sleep: Callable[[float], None],
    on_tick: Callable[[int, AvlRun], None] | None = None,
) -> AvlRun:
    """Post each tick's batches, pausing `interval / speedup` seconds between ticks."""
    run = AvlRun()
    for index in range(ticks):
        if index:
            sleep(simulator.interval / simulator.speedup)
        for batch in simulator.tick():
            run.requests += 1
            run.sent += len(batch.positions)
            try:
                answer = client.report_positions(code=batch.code, positions=batch.positions)
            except FeedError as error:
                if error.status in (401, 403):
                    raise  # the token is wrong: every other post would fail the same way
                run.failed.append(f"{batch.code}: {error}")  # one unit must not stop the rest
                continue
            run.stored += int(answer.get("stored", 0))
            run.rejected += len(answer.get("rejected", []))
        if on_tick is not None:
            on_tick(index, run)
    return run
