"""Which available unit goes: closest-idle (as the live recommender does) or coverage-aware.

Coverage is DMEXCLP's expected covered demand, Σ_w d_w (1 − q^k_w): d_w the ward's share of
the calls (population), k_w how many available units reach it in time, q the chance a unit is
busy. A unit's marginal value is what the sum loses when it leaves: Σ_w d_w (1 − q) q^(k_w − 1)
over the wards it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from cityhealth.emergency.coverage import best_move_up, marginal_expected
from cityhealth.emergency.simulation.network import Network
from cityhealth.emergency.simulation.params import Scenario

Policy = Literal["closest", "coverage"]
POLICIES: tuple[Policy, ...] = ("closest", "coverage")
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MoveUp:
    unit: int  # index into the units given
    station: int  # point index of the suggested station
    gain: float  # expected covered share of demand gained


class Dispatcher:
    def __init__(self, *, network: Network, scenario: Scenario, policy: Policy, busy: float):
        self.policy = policy
        self.rule = scenario.coverage
        self.busy = min(max(busy, 0.01), 0.99)
        self.demand = network.population / network.population.sum()
        lead = scenario.timings.call_processing + scenario.timings.turnout
        # (levels, points, wards): may a unit standing at the point cover the ward in time?
        to_wards = network.seconds[:, :, network.wards]
        self.covers = (lead + to_wards <= self.rule.target_s).astype(np.float64)
        self.stations = network.stations

    def choose(self, *, priority: int, level: int, eta: FloatArray, positions: IntArray) -> int:
        """Index (into `eta`/`positions`) of the unit to send."""
        fastest = int(np.argmin(eta))
        if self.policy == "closest" or priority == 0 or len(eta) == 1:
            return fastest
        candidates = np.flatnonzero(eta <= eta[fastest] + self.rule.tolerance_s[priority])
        loss = self.marginal(level=level, positions=positions)[candidates]
        # Least coverage lost; among (near-)equal losses the faster unit.
        order = np.lexsort((eta[candidates], np.round(loss, 9)))
        return int(candidates[order[0]])

    def marginal(self, *, level: int, positions: IntArray) -> FloatArray:
        """Expected coverage each available unit holds on its own (what its leaving costs)."""
        return marginal_expected(self.covers[level][positions], self.demand, busy=self.busy)

    def move_up(self, *, level: int, positions: IntArray, at_home: IntArray) -> MoveUp | None:
        """The one relocation worth suggesting after an assignment, if any: the home unit
        that holds least coverage, moved to the station where it adds most."""
        choice = best_move_up(
            unit_covers=self.covers[level][positions],
            post_covers=self.covers[level][self.stations],
            demand=self.demand,
            busy=self.busy,
            movable=at_home,
            min_gain=self.rule.move_up_min_gain,
        )
        if choice is None:
            return None
        return MoveUp(unit=choice.unit, station=int(self.stations[choice.post]), gain=choice.gain)

    def covered_share(self, *, level: int, eta_to_wards: FloatArray, within_s: float) -> float:
        """Share of the demand some available unit reaches within `within_s` (call to arrival)."""
        if eta_to_wards.size == 0:
            return 0.0
        best = eta_to_wards.min(axis=0)
        return float(self.demand[best <= within_s].sum())
