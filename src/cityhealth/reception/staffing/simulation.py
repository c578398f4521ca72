"""A discrete-event simulation of a hospital morning: visits arrive hour by hour, walk a
journey of steps through stations with several counters each, and wait where every counter
is busy. Priority classes are called first, first come first served inside a class, and a
visit keeps its class all the way through (priority does not reset at the lab).

    outcome = simulate(scenario, seed=1)
    outcome.station("clinic").wait.p90, outcome.total_wait.mean, outcome.by_class["priority"]

Times are minutes from the first hour of the profile. One seed gives one morning, the same
on every machine (NumPy's PCG64).
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cityhealth.reception.staffing.model import Scenario, ServiceTime, validate
from cityhealth.reception.staffing.stats import (
    Floats,
    WaitSummary,
    hour_spans,
    hourly_areas,
    hourly_peaks,
)

_ARRIVE, _DONE = 0, 1
_BLOCK = 1 << 16


@dataclass(frozen=True)
class HourFigures:
    clock_hour: int  # 7 for 07:00–08:00
    mean_queue: float  # people waiting, averaged over the hour
    peak_queue: int
    utilisation: float  # share of counter time spent serving


@dataclass(frozen=True)
class StationOutcome:
    name: str
    servers: int
    served: int
    wait: WaitSummary
    utilisation: float  # over the whole morning, until the last visit left
    hours: tuple[HourFigures, ...]


@dataclass(frozen=True)
class MorningOutcome:
    arrivals: int  # every visit simulated
    arrivals_by_hour: tuple[int, ...]  # hour by hour of the profile
    counted: int  # those that arrived after the warm-up
    stations: tuple[StationOutcome, ...]
    total_wait: WaitSummary  # a visit's waits added up over its journey
    time_in_hospital: WaitSummary  # from arrival to leaving the last counter
    by_class: dict[str, WaitSummary]  # total wait per priority class
    step_passes: dict[str, int]  # services per step, counted visits only
    finished_minutes: float  # when the last visit left
    events: int

    def station(self, name: str) -> StationOutcome:
        for station in self.stations:
            if station.name == name:
                return station
        raise KeyError(name)


class _Draws:
    """Random numbers drawn from NumPy in blocks and handed out one by one: a call into
    NumPy per event would cost more than the event itself."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._uniform: list[float] = []
        self._exponential: list[float] = []
        self._normal: list[float] = []

    def uniform(self) -> float:
        if not self._uniform:
            self._uniform = self._rng.random(_BLOCK).tolist()
        return self._uniform.pop()

    def exponential(self) -> float:
        if not self._exponential:
            self._exponential = self._rng.standard_exponential(_BLOCK).tolist()
        return self._exponential.pop()

    def normal(self) -> float:
        if not self._normal:
            self._normal = self._rng.standard_normal(_BLOCK).tolist()
        return self._normal.pop()


def _sampler(service: ServiceTime, draws: _Draws) -> Callable[[], float]:
    mean = service.mean_minutes
    if service.distribution == "exponential":
        exponential = draws.exponential
        return lambda: mean * exponential()
    # A lognormal with this mean and coefficient of variation: σ² = ln(1 + cv²),
    # μ = ln(mean) − σ²/2.
    sigma = math.sqrt(math.log1p(service.cv**2))
    mu = math.log(mean) - sigma * sigma / 2
    normal = draws.normal
    return lambda: math.exp(mu + sigma * normal())


def _arrivals(scenario: Scenario, rng: np.random.Generator) -> tuple[list[float], list[int]]:
    """Poisson arrivals with a rate constant within each hour: a Poisson count per hour,
    spread uniformly over it, is exactly that process."""
    counts = rng.poisson(np.asarray(scenario.arrivals.per_hour, dtype=float))
    hours = np.repeat(np.arange(len(counts)), counts)
    times = np.sort(60.0 * (hours + rng.random(hours.size)))
    shares = np.asarray([c.share for c in scenario.classes], dtype=float)
    classes = rng.choice(len(shares), size=times.size, p=shares / shares.sum())
    return times.tolist(), classes.tolist()


def simulate(scenario: Scenario, *, seed: int) -> MorningOutcome:
    """One simulated morning of `scenario`; the same seed gives the same morning."""
    validate(scenario)
    rng = np.random.default_rng(seed)
    draws = _Draws(rng)
    station_index = {s.name: i for i, s in enumerate(scenario.stations)}
    steps = scenario.journey.steps
    step_index = {s.name: i for i, s in enumerate(steps)}
    at_station = [station_index[s.station] for s in steps]
    service_of = [
        _sampler(s.service or scenario.stations[at_station[i]].service, draws)
        for i, s in enumerate(steps)
    ]
    branches = [
        (
            [step_index[target] for target, _ in s.then],
            np.cumsum([p for _, p in s.then]).tolist(),
        )
        for s in steps
    ]
    free = [s.servers for s in scenario.stations]
    queues: list[list[tuple[int, float, int, int, int]]] = [[] for _ in free]
    arrival_at, klass = _arrivals(scenario, rng)
    visits = len(arrival_at)
    left_at = [0.0] * visits
    first = step_index[scenario.journey.first]

    # Five numbers per service, flat: visit, step, joined the queue, called, done (a tuple
    # per service would take ten times the memory on a million visits).
    records = array("d")
    record = records.extend
    # Pending events (time, tie-break, kind, visit, step). New visits are read from the
    # sorted arrivals instead of sitting in the heap: it stays as small as the counters.
    events: list[tuple[float, int, int, int, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    seq = processed = arrived = 0
    now = 0.0
    next_arrival = arrival_at[0] if visits else math.inf
    while True:
        if next_arrival <= (events[0][0] if events else math.inf):
            if next_arrival == math.inf:
                break
            now, kind, visit, step = next_arrival, _ARRIVE, arrived, first
            arrived += 1
            next_arrival = arrival_at[arrived] if arrived < visits else math.inf
        else:
            now, _, kind, visit, step = pop(events)
        processed += 1
        s = at_station[step]
        queue = queues[s]
        seq += 1
        if kind == _ARRIVE:
            if free[s] and not queue:
                free[s] -= 1
                done = now + service_of[step]()
                record((visit, step, now, now, done))
                push(events, (done, seq, _DONE, visit, step))
            else:
                push(queue, (klass[visit], now, seq, visit, step))
            continue
        # A service ended: call the next one waiting here, then send this visit on.
        if queue:
            _, since, _, waiting, waiting_step = pop(queue)
            done = now + service_of[waiting_step]()
            record((waiting, waiting_step, since, now, done))
            push(events, (done, seq, _DONE, waiting, waiting_step))
        else:
            free[s] += 1
        targets, bounds = branches[step]
        if targets:
            u = draws.uniform()
            for target, bound in zip(targets, bounds, strict=True):
                if u < bound:
                    seq += 1
                    push(events, (now, seq, _ARRIVE, visit, target))
                    break
            else:
                left_at[visit] = now
        else:
            left_at[visit] = now
    return _outcome(
        scenario=scenario,
        records=records,
        at_station=at_station,
        arrivals=(np.asarray(arrival_at, dtype=float), np.asarray(klass, dtype=np.int64)),
        left_at=np.asarray(left_at, dtype=float),
        finished=now,
        events=processed,
    )


def _outcome(
    *,
    scenario: Scenario,
    records: array[float],
    at_station: list[int],
    arrivals: tuple[Floats, NDArray[np.int64]],
    left_at: Floats,
    finished: float,
    events: int,
) -> MorningOutcome:
    arrival_at, klass = arrivals
    table = np.frombuffer(records, dtype=np.float64).reshape(-1, 5)
    visit, step = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    joined, called, done = table[:, 2], table[:, 3], table[:, 4]
    wait = called - joined
    counted_visit = arrival_at >= scenario.warmup_minutes
    counted = counted_visit[visit]
    station = np.asarray(at_station, dtype=np.int64)[step]
    spans = hour_spans(finished)
    stations = []
    for s, spec in enumerate(scenario.stations):
        here = station == s
        queue = hourly_areas(joined[here], called[here], spans.size)
        busy = hourly_areas(called[here], done[here], spans.size)
        peaks = hourly_peaks(joined[here], called[here], spans.size)
        hours = tuple(
            HourFigures(
                clock_hour=(scenario.arrivals.start_hour + h) % 24,
                mean_queue=float(queue[h] / spans[h]),
                peak_queue=int(peaks[h]),
                utilisation=float(busy[h] / (spans[h] * spec.servers)),
            )
            for h in range(spans.size)
        )
        stations.append(
            StationOutcome(
                name=spec.name,
                servers=spec.servers,
                served=int(np.count_nonzero(here & counted)),
                wait=WaitSummary.of(wait[here & counted]),
                utilisation=(
                    float((done[here] - called[here]).sum() / (spec.servers * finished))
                    if finished > 0
                    else 0.0
                ),
                hours=hours,
            )
        )
    per_visit = np.bincount(visit, weights=wait, minlength=arrival_at.size).astype(np.float64)
    passes = np.bincount(step[counted], minlength=len(scenario.journey.steps))
    by_hour = np.bincount(
        (arrival_at // 60).astype(np.int64), minlength=len(scenario.arrivals.per_hour)
    )
    return MorningOutcome(
        arrivals=int(arrival_at.size),
        arrivals_by_hour=tuple(int(n) for n in by_hour),
        counted=int(counted_visit.sum()),
        stations=tuple(stations),
        total_wait=WaitSummary.of(per_visit[counted_visit]),
        time_in_hospital=WaitSummary.of((left_at - arrival_at)[counted_visit]),
        by_class={
            c.name: WaitSummary.of(per_visit[counted_visit & (klass == i)])
            for i, c in enumerate(scenario.classes)
        },
        step_passes={s.name: int(passes[i]) for i, s in enumerate(scenario.journey.steps)},
        finished_minutes=finished,
        events=events,
    )
