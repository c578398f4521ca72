"""Which standing ambulance to move, and where, once an assignment has thinned the cover.

The same rule as the simulation's dispatcher (`coverage.best_move_up`, MEXCLP): the unit
standing available that holds least expected coverage moves to the post where it adds most,
if that gains at least 1% of the city's demand reached within 15 minutes. Posts are the home
stations and hospitals of the active ambulances (a station whose crews are all out is exactly
where one is missing). The busy probability is the share of ambulances on a job now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from cityhealth.core import clock
from cityhealth.emergency.coverage import best_move_up, ward_points, ward_travel_table
from cityhealth.emergency.enums import UnitKind, UnitStatus
from cityhealth.emergency.lifecycle import ASSIGNABLE
from cityhealth.emergency.models import Unit
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.selectors import unit_point
from cityhealth.emergency.simulation.params import CoverageRule, Timings
from cityhealth.facilities.models import Facility

AMBULANCES = (UnitKind.ALS_AMBULANCE, UnitKind.BLS_AMBULANCE)
RULE = CoverageRule()
# What the clock runs before wheels turn: taking the call, then the crew leaving.
LEAD_SECONDS = Timings().call_processing + Timings().turnout


@dataclass(frozen=True)
class PlannedMoveUp:
    unit: Unit
    post: Facility
    gain_share: float
    gain_residents: int
    drive_seconds: float


def plan_move_up(
    *, at: dt.datetime | None = None, model: TravelModel | None = None
) -> PlannedMoveUp | None:
    """The one move-up worth suggesting now, or None."""
    when = at or clock.now()
    travel = model or TravelModel.shared()
    fleet = list(
        Unit.objects.filter(is_active=True, kind__in=AMBULANCES).select_related(
            "home", "standby_post"
        )
    )
    free = [(u, p) for u in fleet if u.status in ASSIGNABLE and (p := unit_point(u)) is not None]
    movable = np.array(
        [i for i, (u, _p) in enumerate(free) if u.status == UnitStatus.AVAILABLE], dtype=np.int64
    )
    posts = _posts(fleet)
    if not free or len(movable) == 0 or not posts:
        return None
    wards = ward_points()
    demand = np.array([w.population for w in wards], dtype=np.float64)
    population = float(demand.sum())
    demand /= population
    unit_table = ward_travel_table(origins=[p for _u, p in free], at=when, model=travel)
    post_table = ward_travel_table(
        origins=[(f.latitude or 0.0, f.longitude or 0.0) for f in posts], at=when, model=travel
    )
    busy = 1.0 - len(free) / len(fleet)
    choice = best_move_up(
        unit_covers=_covers(unit_table),
        post_covers=_covers(post_table),
        demand=demand,
        busy=min(max(busy, 0.01), 0.99),
        movable=movable,
        min_gain=RULE.move_up_min_gain,
    )
    if choice is None:
        return None
    unit, point = free[choice.unit]
    post = posts[choice.post]
    drive = travel.travel_seconds(
        origins=[point], destination=(post.latitude or 0.0, post.longitude or 0.0), at=when
    )
    return PlannedMoveUp(
        unit=unit,
        post=post,
        gain_share=round(choice.gain, 4),
        gain_residents=round(choice.gain * population),
        drive_seconds=float(drive.seconds[0]),
    )


def _posts(fleet: list[Unit]) -> list[Facility]:
    homes = {u.home.pk: u.home for u in fleet if u.home is not None}
    return [
        f for _pk, f in sorted(homes.items()) if f.latitude is not None and f.longitude is not None
    ]


def _covers(table: np.ndarray) -> np.ndarray:
    """Origins × wards, 1.0 where the origin reaches the ward within the P1 target."""
    with np.errstate(invalid="ignore"):
        return (RULE.target_s >= LEAD_SECONDS + table.T).astype(np.float64)
