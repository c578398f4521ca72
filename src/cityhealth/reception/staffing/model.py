"""What a simulated morning is made of: stations with their counters, the journey a visit
takes through them, arrivals hour by hour and the priority classes.

A journey is a graph of steps rather than of stations, because a visit comes back to a
station for a different reason (the clinic after the lab reads results, it does not examine
again): each step names its station, may have its own service time, and sends the visit on
to the next steps with probabilities; what is left over goes home.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cityhealth.reception.staffing import errors

Distribution = Literal["exponential", "lognormal"]

# A page or a benchmark may ask for a city's day, not for a simulation that runs for hours.
MAX_VISITS = 2_000_000


@dataclass(frozen=True)
class ServiceTime:
    """How long one service takes, in minutes. `cv` (standard deviation / mean) is used by
    the lognormal only: the exponential's is always 1."""

    mean_minutes: float
    distribution: Distribution = "exponential"
    cv: float = 1.0


@dataclass(frozen=True)
class Station:
    name: str
    servers: int
    service: ServiceTime


@dataclass(frozen=True)
class Step:
    name: str
    station: str
    service: ServiceTime | None = None  # None: the station's
    then: tuple[tuple[str, float], ...] = ()  # (next step, probability); the rest leave


@dataclass(frozen=True)
class Journey:
    first: str
    steps: tuple[Step, ...]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)


@dataclass(frozen=True)
class ArrivalProfile:
    """Arrivals per hour, hour by hour, from `start_hour` o'clock: a Poisson process whose
    rate is constant within each hour."""

    start_hour: int
    per_hour: tuple[float, ...]

    @property
    def expected_visits(self) -> float:
        return float(sum(self.per_hour))


@dataclass(frozen=True)
class PriorityClass:
    """A class of visit; classes listed earlier are called first (statutory priority groups
    before everyone else), first come first served inside a class."""

    name: str
    share: float


@dataclass(frozen=True)
class Scenario:
    stations: tuple[Station, ...]
    journey: Journey
    arrivals: ArrivalProfile
    classes: tuple[PriorityClass, ...] = (PriorityClass("general", 1.0),)
    # Visits arriving earlier are served but not counted in the waits: the counters start
    # empty, which flatters the first minutes of a steady-state comparison.
    warmup_minutes: float = 0.0


def _positive(value: float, *, field: str, vi_name: str, en_name: str) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.not_finite(field=field)
    if value <= 0:
        raise errors.not_positive(field=field, value=value, vi_name=vi_name, en_name=en_name)


def _check_service(service: ServiceTime, where: str) -> None:
    _positive(
        service.mean_minutes,
        field=f"{where}.service",
        vi_name=f"Thời gian phục vụ tại «{where}»",
        en_name=f"The service time at “{where}”",
    )
    if service.distribution not in ("exponential", "lognormal"):
        raise errors.bad_journey(
            vi=f"Phân phối thời gian phục vụ «{service.distribution}» không được hỗ trợ.",
            en=f"Service time distribution “{service.distribution}” is not supported.",
            field=f"{where}.service",
        )
    _positive(
        service.cv,
        field=f"{where}.cv",
        vi_name=f"Hệ số biến thiên tại «{where}»",
        en_name=f"The coefficient of variation at “{where}”",
    )


def _check_stations(stations: tuple[Station, ...]) -> None:
    if not stations or len({s.name for s in stations}) != len(stations):
        raise errors.bad_journey(
            vi="Cần ít nhất một điểm phục vụ, mỗi điểm một tên riêng.",
            en="At least one station is needed, each with its own name.",
            field="stations",
        )
    for station in stations:
        if isinstance(station.servers, bool) or not isinstance(station.servers, int):
            raise errors.not_finite(field=f"{station.name}.servers")
        if station.servers < 1:
            raise errors.not_positive(
                field=f"{station.name}.servers",
                value=station.servers,
                vi_name=f"Số quầy tại «{station.name}»",
                en_name=f"The number of counters at “{station.name}”",
            )
        _check_service(station.service, station.name)


def _check_steps(journey: Journey, station_names: set[str]) -> None:
    names = [step.name for step in journey.steps]
    if len(set(names)) != len(names) or journey.first not in names:
        raise errors.bad_journey(
            vi="Mỗi bước của lộ trình cần một tên riêng, và bước đầu tiên phải có trong lộ trình.",
            en="Each step of the journey needs its own name, and the first step must be one.",
        )
    for step in journey.steps:
        if step.station not in station_names:
            raise errors.bad_journey(
                vi=f"Bước «{step.name}» dùng điểm phục vụ không tồn tại «{step.station}».",
                en=f"Step “{step.name}” uses a station that does not exist: “{step.station}”.",
            )
        if step.service is not None:
            _check_service(step.service, step.name)
        total = 0.0
        for target, probability in step.then:
            if target not in names:
                raise errors.bad_journey(
                    vi=f"Bước «{step.name}» chuyển tới bước không tồn tại «{target}».",
                    en=f"Step “{step.name}” goes on to a step that does not exist: “{target}”.",
                )
            if not math.isfinite(probability) or probability < 0:
                raise errors.bad_journey(
                    vi=f"Xác suất chuyển tiếp sau «{step.name}» phải từ 0 đến 1.",
                    en=f"The branch probabilities after “{step.name}” must be between 0 and 1.",
                )
            total += probability
        if total > 1.0 + 1e-9:
            raise errors.bad_journey(
                vi=f"Tổng xác suất chuyển tiếp sau «{step.name}» vượt quá 100%.",
                en=f"The branch probabilities after “{step.name}” add up to more than 100%.",
            )


def _check_leaves(journey: Journey) -> None:
    """Every step must be able to reach home: a loop with no way out never ends."""
    can_leave = {s.name for s in journey.steps if sum(p for _, p in s.then) < 1.0 - 1e-9}
    changed = True
    while changed:
        changed = False
        for step in journey.steps:
            if step.name not in can_leave and any(
                p > 0 and target in can_leave for target, p in step.then
            ):
                can_leave.add(step.name)
                changed = True
    stuck = sorted({s.name for s in journey.steps} - can_leave)
    if stuck:
        raise errors.bad_journey(
            vi=f"Lượt khám không bao giờ kết thúc từ các bước: {', '.join(stuck)}.",
            en=f"A visit never ends from these steps: {', '.join(stuck)}.",
        )


def _check_arrivals(arrivals: ArrivalProfile) -> None:
    if not arrivals.per_hour or not 0 <= arrivals.start_hour <= 23:
        raise errors.bad_journey(
            vi="Cần số lượt đến cho ít nhất một giờ, bắt đầu từ 0 đến 23 giờ.",
            en="Arrivals are needed for at least one hour, starting between 0 and 23 o'clock.",
            field="arrivals",
        )
    for rate in arrivals.per_hour:
        if not isinstance(rate, int | float) or not math.isfinite(rate):
            raise errors.not_finite(field="arrivals")
        if rate < 0:
            raise errors.negative_rate(field="arrivals", value=rate)
    if arrivals.expected_visits > MAX_VISITS:
        raise errors.too_large(visits=arrivals.expected_visits, limit=MAX_VISITS)


def _check_classes(classes: tuple[PriorityClass, ...]) -> None:
    shares = [c.share for c in classes]
    if (
        not classes
        or len({c.name for c in classes}) != len(classes)
        or any(not math.isfinite(s) or s < 0 for s in shares)
        or abs(sum(shares) - 1.0) > 1e-6
    ):
        raise errors.bad_journey(
            vi="Các nhóm ưu tiên cần tên riêng và tỷ lệ không âm, cộng lại đúng 100%.",
            en="Priority classes need their own names and non-negative shares adding to 100%.",
            field="classes",
        )


def validate(scenario: Scenario) -> None:
    """Raise InvalidInput (Vietnamese and English) for anything the simulation cannot run."""
    _check_stations(scenario.stations)
    _check_steps(scenario.journey, {s.name for s in scenario.stations})
    _check_leaves(scenario.journey)
    _check_arrivals(scenario.arrivals)
    _check_classes(scenario.classes)
    if not math.isfinite(scenario.warmup_minutes) or scenario.warmup_minutes < 0:
        raise errors.negative_rate(field="warmup_minutes", value=scenario.warmup_minutes)


def expected_passes(journey: Journey) -> dict[str, float]:
    """How many times an average visit passes through each step: v = e + Pᵀ v, solved
    exactly (a loop back to the lab is counted as often as it is taken on average)."""
    index = {step.name: i for i, step in enumerate(journey.steps)}
    routing = np.zeros((len(index), len(index)))
    for step in journey.steps:
        for target, probability in step.then:
            routing[index[step.name], index[target]] += probability
    start = np.zeros(len(index))
    start[index[journey.first]] = 1.0
    passes = np.linalg.solve(np.eye(len(index)) - routing.T, start)
    return {name: float(passes[i]) for name, i in index.items()}


def station_passes(scenario: Scenario) -> dict[str, float]:
    """Expected services per visit at each station (the steps at it added up)."""
    per_station = {station.name: 0.0 for station in scenario.stations}
    for name, passes in expected_passes(scenario.journey).items():
        per_station[scenario.journey.step(name).station] += passes
    return per_station


def mean_service(scenario: Scenario, station: str) -> float:
    """The station's mean service time weighted by how often each of its steps is taken."""
    default = next(s.service for s in scenario.stations if s.name == station)
    passes = expected_passes(scenario.journey)
    weighted = total = 0.0
    for step in scenario.journey.steps:
        if step.station == station:
            weighted += passes[step.name] * (step.service or default).mean_minutes
            total += passes[step.name]
    return weighted / total if total > 0 else default.mean_minutes
