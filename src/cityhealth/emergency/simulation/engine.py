"""The discrete-event core: one run of one policy over one stream of calls.

Events (a heapq): a call ready for dispatch (after call processing) and a unit clearing
(scene left without a patient, or hospital handover done). A unit is available from the
moment it clears and drives back to its station; dispatched on the way, it starts from where
it cleared during the first half of the drive and from its station in the second (a cheap
stand-in for its position). When no unit is free the call waits; a clearing unit takes the
highest-priority, then oldest, waiting call.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cityhealth.emergency.simulation.demand import Calls
from cityhealth.emergency.simulation.network import Network
from cityhealth.emergency.simulation.params import Scenario
from cityhealth.emergency.simulation.policy import Dispatcher

_READY, _CLEAR = 0, 1
COVERAGE_WITHIN_S = (480.0, 900.0)


@dataclass(frozen=True)
class Outcome:
    response_s: NDArray[np.float64]  # per call: call to arrival on scene
    priority: NDArray[np.int64]
    eta_s: NDArray[np.float64]  # travel (with turnout) of the unit sent
    fastest_eta_s: NDArray[np.float64]  # of the fastest unit available at that moment
    service_s: NDArray[np.float64]  # per call: dispatch to clear (the unit's busy time)
    busy_s: NDArray[np.float64]  # per unit
    horizon_s: float
    covered: NDArray[np.float64]  # (calls, 2): demand share within 8 / 15 min, at each call
    move_ups: int  # relocations suggested (coverage policy; not carried out)


class _Units:
    def __init__(self, homes: NDArray[np.int64]):
        self.home = homes
        self.free = np.ones(len(homes), dtype=np.bool_)
        self.last = homes.copy()  # where the unit cleared
        self.half_back = np.zeros(len(homes))  # from then on it counts as at its station
        self.back = np.zeros(len(homes))  # at its station again (turnout needed)
        self.busy_s = np.zeros(len(homes))

    def positions(self, idle: NDArray[np.int64], now: float) -> NDArray[np.int64]:
        return np.where(now >= self.half_back[idle], self.home[idle], self.last[idle])


def simulate(
    *, calls: Calls, network: Network, scenario: Scenario, dispatcher: Dispatcher
) -> Outcome:
    timings = scenario.timings
    homes = np.repeat(network.stations, scenario.units_per_station)
    units = _Units(homes)
    n = len(calls)
    response = np.full(n, np.nan)
    eta_sent, eta_fastest, service = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    covered = np.zeros((n, 2))
    events: list[tuple[float, int, int, int]] = [
        (float(t) + timings.call_processing, _READY, i, i) for i, t in enumerate(calls.at_s)
    ]
    heapq.heapify(events)
    waiting: list[tuple[int, float, int]] = []
    seq, move_ups = n, 0
    to_wards = network.seconds[:, :, network.wards]

    def level(at_s: float) -> int:
        return network.level_at(calls.start_minute_of_week + int(at_s // 60))

    def dispatch(call: int, now: float, idle: NDArray[np.int64]) -> None:
        nonlocal seq, move_ups
        lvl = level(now)
        positions = units.positions(idle, now)
        turnout = np.where(now >= units.back[idle], timings.turnout, 0.0)
        scene = int(calls.point[call])
        eta = turnout + network.seconds[lvl, positions, scene]
        pick = dispatcher.choose(
            priority=int(calls.priority[call]), level=lvl, eta=eta, positions=positions
        )
        unit = int(idle[pick])
        arrive = now + float(eta[pick])
        response[call] = arrive - calls.at_s[call]
        eta_sent[call], eta_fastest[call] = eta[pick], eta.min()
        clear = arrive + calls.on_scene_s[call]
        last = scene
        if calls.transport[call]:
            lvl = level(clear)
            hospital = network.hospitals[np.argmin(network.seconds[lvl, scene, network.hospitals])]
            clear += network.seconds[lvl, scene, hospital] + calls.handover_s[call]
            last = int(hospital)
        back = float(network.seconds[level(clear), last, units.home[unit]])
        units.free[unit] = False
        units.last[unit], units.half_back[unit], units.back[unit] = (
            last, clear + back / 2, clear + back
        )  # fmt: skip
        service[call] = clear - now
        units.busy_s[unit] += clear - now
        seq += 1
        heapq.heappush(events, (clear, _CLEAR, seq, unit))
        if dispatcher.policy == "coverage" and len(idle) > 1:
            rest = np.delete(idle, pick)
            rest_positions = units.positions(rest, now)
            at_home = np.flatnonzero(rest_positions == units.home[rest])
            if dispatcher.move_up(level=lvl, positions=rest_positions, at_home=at_home):
                move_ups += 1

    while events:
        now, kind, _, index = heapq.heappop(events)
        if kind == _READY:
            idle = np.flatnonzero(units.free)
            lvl = level(now)
            if len(idle):
                positions = units.positions(idle, now)
                lead = timings.call_processing + np.where(
                    now >= units.back[idle], timings.turnout, 0.0
                )
                eta = lead[:, None] + to_wards[lvl][positions]
                for j, within in enumerate(COVERAGE_WITHIN_S):
                    covered[index, j] = dispatcher.covered_share(
                        level=lvl, eta_to_wards=eta, within_s=within
                    )
                dispatch(index, now, idle)
            else:
                heapq.heappush(waiting, (int(calls.priority[index]), now, index))
        else:
            units.free[index] = True
            if waiting:
                _, _, call = heapq.heappop(waiting)
                dispatch(call, now, np.array([index], dtype=np.int64))
    return Outcome(
        response_s=response,
        priority=calls.priority,
        eta_s=eta_sent,
        fastest_eta_s=eta_fastest,
        service_s=service,
        busy_s=units.busy_s,
        horizon_s=calls.horizon_s,
        covered=covered,
        move_ups=move_ups,
    )
