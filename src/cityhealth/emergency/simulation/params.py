"""The assumptions of the 115 simulation, in one place, each with where it comes from.

"assumed" means no published Hà Nội figure was found: change it here when 115 data arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIORITY_NAMES = ("p1", "p2", "p3", "p4")

# 39,242 requests in 2023 / 365 days (hanoi.md §5.2: baotintuc.vn 10/04/2024).
CALLS_PER_DAY = 107.0

# Relative call rate by hour of day, mean 1 (assumed: the usual shape of EMS demand, lowest
# before dawn and highest from late morning to the evening; no Hà Nội profile is published).
HOURLY_PROFILE = (
    0.70, 0.60, 0.50, 0.45, 0.45, 0.50, 0.70, 0.90, 1.10, 1.20, 1.25, 1.25,
    1.15, 1.10, 1.10, 1.15, 1.20, 1.25, 1.30, 1.30, 1.25, 1.10, 0.95, 0.80,
)  # fmt: skip

# Share of calls by priority. P1 ≈ 9% as NHS ARP Category 1 (emergency-dispatch.md §3);
# the split of the rest is assumed.
PRIORITY_MIX = (0.09, 0.36, 0.40, 0.15)

# Probability that the patient is taken to hospital, by priority (assumed; weighted by the mix
# it gives 0.67, close to 26,492 patients for 39,242 requests in 2023, hanoi.md §5.2).
TRANSPORT_PROBABILITY = (0.85, 0.75, 0.65, 0.45)


@dataclass(frozen=True)
class Timings:
    """Times in seconds; on-scene and handover are gamma-distributed with this mean and CV."""

    # From the call's arrival to the dispatch decision (assumed; ARP starts the clock at the
    # latest 240 s after connection, emergency-dispatch.md §3).
    call_processing: float = 90.0
    # Crew leaving the station (NFPA 1710 EMS turnout ≤ 60 s, secondary).
    turnout: float = 60.0
    on_scene_mean: tuple[float, float, float, float] = (1200.0, 900.0, 900.0, 900.0)  # assumed
    handover_mean: float = 900.0  # assumed
    cv: float = 0.5  # assumed spread of both


@dataclass(frozen=True)
class CoverageRule:
    """DMEXCLP-style dispatch for P2–P4 (Jagtenberg, Bhulai & van der Mei 2015/2017).

    A ward counts as covered by an available unit when call processing + turnout + travel is
    within `target_s` (the P1 standard). Expected covered demand is Σ_w d_w (1 − q^k_w) with
    k_w the available units covering ward w and q the chance a unit is busy (Daskin's
    MEXCLP). For a P2–P4 call the units arriving within `tolerance_s[p]` of the fastest are
    candidates; the one whose departure loses the least expected coverage goes (ties: the
    faster). P1 always gets the fastest unit.
    """

    target_s: float = 900.0
    tolerance_s: tuple[float, float, float, float] = (0.0, 300.0, 600.0, 900.0)
    # A move-up is suggested when moving one idle unit to another station gains at least
    # this share of the city's demand in expected coverage.
    move_up_min_gain: float = 0.01


@dataclass(frozen=True)
class Scenario:
    days: int
    calls_per_day: float = CALLS_PER_DAY
    demand_factor: float = 1.0  # > 1 models the unmet need (115 meets 7–10%, hanoi.md §5.2)
    units_per_station: int = 1
    timings: Timings = Timings()
    coverage: CoverageRule = CoverageRule()
    late_after_s: float = 900.0  # P1 later than 15 min (hanoi.md §5: aim ≈ 15 min)
