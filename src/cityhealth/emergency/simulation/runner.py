"""Replications of one or both policies over the same calls, and the report they make."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cityhealth.emergency.simulation import kpi
from cityhealth.emergency.simulation.demand import (
    Calls,
    RecordedDay,
    generate_calls,
    replay_calls,
)
from cityhealth.emergency.simulation.engine import Outcome, simulate
from cityhealth.emergency.simulation.network import Network
from cityhealth.emergency.simulation.params import Scenario
from cityhealth.emergency.simulation.policy import Dispatcher, Policy


@dataclass(frozen=True)
class Run:
    policies: tuple[Policy, ...]
    outcomes: dict[Policy, list[Outcome]]
    busy_estimate: float
    elapsed_s: dict[Policy, float]


def run(
    *,
    scenario: Scenario,
    network: Network,
    policies: tuple[Policy, ...],
    seed: int,
    replications: int,
    replay: RecordedDay | None = None,
) -> Run:
    """Each replication draws its calls once from its own child seed; every policy then
    serves those same calls (common random numbers)."""
    streams = np.random.SeedSequence(seed).spawn(replications)
    streams_calls = [_calls(scenario, network, np.random.default_rng(s), replay) for s in streams]
    busy = _busy_estimate(scenario=scenario, network=network, calls=streams_calls[0])
    outcomes: dict[Policy, list[Outcome]] = {}
    elapsed: dict[Policy, float] = {}
    for policy in policies:
        started = time.perf_counter()
        dispatcher = Dispatcher(network=network, scenario=scenario, policy=policy, busy=busy)
        outcomes[policy] = [
            simulate(calls=calls, network=network, scenario=scenario, dispatcher=dispatcher)
            for calls in streams_calls
        ]
        elapsed[policy] = time.perf_counter() - started
    return Run(policies=policies, outcomes=outcomes, busy_estimate=busy, elapsed_s=elapsed)


def report(
    *, result: Run, scenario: Scenario, network: Network, stations: int, seed: int, source: str
) -> dict[str, Any]:
    """The JSON document: one policy at the top level, or both under `runs` with the late-P1
    difference when compared."""
    method = {
        "travel": (
            f"ward-to-ward travel-time matrices from the city travel model, one per congestion "
            f"level ({len(network.level_names)} levels, {len(network.names)} points); "
            "incidents at their ward's centroid"
        ),
        "confidence_intervals": "independent replications, Student t 95%",
        "busy_probability_q": round(result.busy_estimate, 4),
    }
    runs = {
        policy: {
            "policy": policy,
            "days": scenario.days,
            "stations": stations,
            "station_points": len(network.stations),
            "seed": seed,
            "replications": len(result.outcomes[policy]),
            "demand": {
                "source": source,
                "calls_per_day": scenario.calls_per_day,
                "demand_factor": scenario.demand_factor,
                "units_per_station": scenario.units_per_station,
            },
            "priorities": kpi.priority_figures(
                outcomes=result.outcomes[policy], late_after_s=scenario.late_after_s
            ),
            "system": kpi.system_figures(outcomes=result.outcomes[policy]),
            "method": method,
            "elapsed_s": round(result.elapsed_s[policy], 2),
        }
        for policy in result.policies
    }
    if len(result.policies) == 1:
        return runs[result.policies[0]]
    return {
        "compare": True,
        "days": scenario.days,
        "stations": stations,
        "seed": seed,
        "runs": runs,
        "late_p1": kpi.late_p1_difference(
            closest=result.outcomes["closest"],
            coverage=result.outcomes["coverage"],
            late_after_s=scenario.late_after_s,
        ),
    }


def _calls(
    scenario: Scenario, network: Network, rng: np.random.Generator, replay: RecordedDay | None
) -> Calls:
    if replay is not None:
        return replay_calls(day=replay, scenario=scenario, rng=rng)
    return generate_calls(scenario=scenario, network=network, rng=rng)


def _busy_estimate(*, scenario: Scenario, network: Network, calls: Calls) -> float:
    """DMEXCLP's q before the run: offered unit-time per unit of time per unit. Each call
    costs turnout, the trip from the nearest station and back, on-scene time and, when
    transported, the trip to the nearest hospital and the handover (daytime traffic)."""
    if len(calls) == 0:
        return 0.05
    seconds = network.seconds.mean(axis=0)
    from_station = seconds[np.ix_(network.stations, calls.point)].min(axis=0)
    to_hospital = seconds[np.ix_(calls.point, network.hospitals)].min(axis=1)
    per_call = (
        scenario.timings.turnout
        + 2 * from_station
        + calls.on_scene_s
        + calls.transport * (to_hospital + calls.handover_s)
    )
    units = len(network.stations) * scenario.units_per_station
    return float(per_call.sum() / calls.horizon_s / units)
