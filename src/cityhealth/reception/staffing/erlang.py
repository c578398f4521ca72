"""Erlang C (the M/M/N queue) for one station: how long people wait at N counters, and the
least N that serves a target share within a target wait.

Assumes Poisson arrivals, exponential service, no one leaving the queue, first come first
served and an unlimited queue; because nobody gives up, it errs towards more counters.

Times are minutes and rates are per hour, as the reception desk counts them. The probability
of waiting comes from the Erlang B recursion, B(n) = A·B(n−1) / (n + A·B(n−1)), which stays
in (0, 1] at every step: the textbook ratio of powers and factorials overflows a float past
170 counters and loses precision well before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cityhealth.reception.staffing import errors


@dataclass(frozen=True)
class StaffingFigures:
    """What N counters give at a load, for one station."""

    arrivals_per_hour: float
    service_minutes: float
    counters: int
    load: float  # offered load A = λ · mean service time, in Erlangs
    occupancy: float  # A / N: the share of counter time spent serving
    probability_of_waiting: float
    mean_wait_minutes: float  # average over everyone, those served at once included
    target_minutes: float
    service_level: float  # share of people called within target_minutes
    p50_wait_minutes: float
    p90_wait_minutes: float


@dataclass(frozen=True)
class Recommendation:
    """The least counters meeting the service level, and the occupancy cap if one was set."""

    figures: StaffingFigures
    target_share: float
    max_occupancy: float
    for_service_level: int  # least N with the target share served in time
    for_occupancy: int  # least N keeping occupancy at or below the cap

    @property
    def counters(self) -> int:
        return self.figures.counters

    @property
    def limited_by_occupancy(self) -> bool:
        return self.for_occupancy > self.for_service_level


def _finite(value: float, field: str) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.not_finite(field=field)
    return float(value)


def _check_rate(arrivals_per_hour: float) -> float:
    rate = _finite(arrivals_per_hour, "arrivals_per_hour")
    if rate < 0:
        raise errors.negative_rate(field="arrivals_per_hour", value=rate)
    return rate


def _check_service(service_minutes: float) -> float:
    minutes = _finite(service_minutes, "service_minutes")
    if minutes <= 0:
        raise errors.not_positive(
            field="service_minutes",
            value=minutes,
            vi_name="Thời gian phục vụ trung bình",
            en_name="The mean service time",
        )
    return minutes


def _check_target(target_minutes: float) -> float:
    minutes = _finite(target_minutes, "target_minutes")
    if minutes < 0:
        raise errors.not_positive(
            field="target_minutes",
            value=minutes,
            vi_name="Thời gian chờ mục tiêu",
            en_name="The target wait",
        )
    return minutes


def _check_counters(counters: int) -> int:
    if isinstance(counters, bool) or not isinstance(counters, int) or counters < 1:
        raise errors.not_positive(
            field="counters",
            value=float(counters),
            vi_name="Số quầy",
            en_name="The number of counters",
        )
    return counters


def _check_load(load: float) -> float:
    value = _finite(load, "load")
    if value < 0:
        raise errors.negative_rate(field="load", value=value)
    return value


def offered_load(*, arrivals_per_hour: float, service_minutes: float) -> float:
    """A = λ · mean service time, in Erlangs (busy counters needed on average)."""
    return _check_rate(arrivals_per_hour) * _check_service(service_minutes) / 60.0


def erlang_b(*, load: float, servers: int) -> float:
    """Blocking probability of N servers with no queue (Erlang B), by recursion."""
    a = _check_load(load)
    blocking = 1.0
    for n in range(1, _check_counters(servers) + 1):
        blocking = a * blocking / (n + a * blocking)
    return blocking


def _c_from_b(blocking: float, load: float, servers: int) -> float:
    return servers * blocking / (servers - load * (1.0 - blocking))


def probability_of_waiting(*, load: float, servers: int) -> float:
    """Erlang C: the chance that an arrival finds every counter busy. Needs N > A."""
    a, n = _check_load(load), _check_counters(servers)
    if a >= n:
        raise errors.overloaded(load=a, counters=n)
    return _c_from_b(erlang_b(load=a, servers=n), a, n)


def _wait_tail(c: float, load: float, servers: int, service: float, minutes: float) -> float:
    """P(wait > t) = C · exp(−(N − A) · t / AHT)."""
    return c * math.exp(-(servers - load) * minutes / service)


def _wait_quantile(c: float, load: float, servers: int, service: float, share: float) -> float:
    """The wait that `share` of arrivals do not exceed (zero while they are served at once)."""
    if c <= 1.0 - share:
        return 0.0
    return service / (servers - load) * math.log(c / (1.0 - share))


def mean_wait(*, load: float, servers: int, service_minutes: float) -> float:
    """Average speed of answer: C · AHT / (N − A), in minutes."""
    c = probability_of_waiting(load=load, servers=servers)
    return c * _check_service(service_minutes) / (servers - load)


def service_level(
    *, load: float, servers: int, service_minutes: float, target_minutes: float
) -> float:
    """The share called within `target_minutes`: 1 − C · exp(−(N − A) · T / AHT)."""
    c = probability_of_waiting(load=load, servers=servers)
    tail = _wait_tail(
        c, load, servers, _check_service(service_minutes), _check_target(target_minutes)
    )
    return 1.0 - tail


def wait_percentile(*, load: float, servers: int, service_minutes: float, share: float) -> float:
    """The wait (minutes) that `share` of arrivals do not exceed, e.g. share=0.9 for p90."""
    share = _finite(share, "share")
    if not 0.0 < share < 1.0:
        raise errors.share_out_of_range(field="share", value=share)
    c = probability_of_waiting(load=load, servers=servers)
    return _wait_quantile(c, load, servers, _check_service(service_minutes), share)


def _figures(
    *, rate: float, service: float, target: float, load: float, counters: int, blocking: float
) -> StaffingFigures:
    c = _c_from_b(blocking, load, counters)
    return StaffingFigures(
        arrivals_per_hour=rate,
        service_minutes=service,
        counters=counters,
        load=load,
        occupancy=load / counters,
        probability_of_waiting=c,
        mean_wait_minutes=c * service / (counters - load),
        target_minutes=target,
        service_level=1.0 - _wait_tail(c, load, counters, service, target),
        p50_wait_minutes=_wait_quantile(c, load, counters, service, 0.5),
        p90_wait_minutes=_wait_quantile(c, load, counters, service, 0.9),
    )


def evaluate(
    *, arrivals_per_hour: float, service_minutes: float, counters: int, target_minutes: float
) -> StaffingFigures:
    """Everything Erlang C says about `counters` at this demand; refuses N ≤ A."""
    rate, service = _check_rate(arrivals_per_hour), _check_service(service_minutes)
    target, n = _check_target(target_minutes), _check_counters(counters)
    load = rate * service / 60.0
    if load >= n:
        raise errors.overloaded(load=load, counters=n)
    return _figures(
        rate=rate,
        service=service,
        target=target,
        load=load,
        counters=n,
        blocking=erlang_b(load=load, servers=n),
    )


def counters_needed(
    *,
    arrivals_per_hour: float,
    service_minutes: float,
    target_minutes: float,
    target_share: float,
    max_occupancy: float = 1.0,
) -> Recommendation:
    """The least counters with `target_share` of arrivals called within `target_minutes`
    (e.g. 0.8 within 2 min) and, if `max_occupancy` < 1, occupancy at most that cap (staff
    who are busy 95 % of the time burn out, and breaks are not in the model)."""
    rate, service = _check_rate(arrivals_per_hour), _check_service(service_minutes)
    target = _check_target(target_minutes)
    share = _finite(target_share, "target_share")
    if not 0.0 < share < 1.0:
        raise errors.share_out_of_range(field="target_share", value=share)
    cap = _finite(max_occupancy, "max_occupancy")
    if not 0.0 < cap <= 1.0:
        raise errors.occupancy_out_of_range(value=cap)
    load = rate * service / 60.0
    # The tolerance keeps A / cap = 40.0000001 (float noise) from asking for a 41st counter.
    for_occupancy = max(1, math.ceil(load / cap - 1e-9))
    # Walk N upwards carrying B(N): each step is one multiplication, so the search costs
    # O(N) however large the hospital.
    blocking, n, for_service_level = 1.0, 0, 0
    while True:
        n += 1
        blocking = load * blocking / (n + load * blocking)
        if n <= load:
            continue
        found = _figures(
            rate=rate, service=service, target=target, load=load, counters=n, blocking=blocking
        )
        if not for_service_level and found.service_level >= share:
            for_service_level = n
        if for_service_level and n >= for_occupancy:
            break
    return Recommendation(
        figures=found,
        target_share=share,
        max_occupancy=cap,
        for_service_level=for_service_level,
        for_occupancy=for_occupancy,
    )
