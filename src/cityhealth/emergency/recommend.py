"""The fastest right unit for an incident: every free unit's travel time to the patient at
this hour (alley included), filtered by what the triage asks for, each with its reasons.

Capable means: an ALS ambulance where the protocol asks for advanced life support; any
ambulance for basic life support; a motorbike first responder is never enough on its own to
transport, but where the protocol allows one to go ahead and it arrives first it is listed
as the first responder beside the ambulance.

Coverage: a P1 always gets the fastest capable ambulance. For P2–P4, among the capable
ambulances arriving within a tolerance of the fastest (5, 10, 15 minutes), the one whose
departure leaves the fewest residents without any free unit within 15 minutes goes first
(a deterministic form of the DMEXCLP rule the simulation uses). Every option says how many
residents it would leave uncovered. The ward-by-unit travel table behind it (about a quarter
of a second) is kept for the minute while the same units are free and none has moved more
than about a kilometre.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.coverage import sole_cover_loss, ward_points, ward_travel_table
from cityhealth.emergency.enums import UnitKind
from cityhealth.emergency.lifecycle import ASSIGNABLE
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.routing import Access, TravelModel, Vehicle
from cityhealth.emergency.selectors import unit_point

AMBULANCES = {UnitKind.ALS_AMBULANCE, UnitKind.BLS_AMBULANCE}
COVER_SECONDS = 15 * 60
TOLERANCE_SECONDS = {"P1": 0.0, "P2": 300.0, "P3": 600.0, "P4": 900.0}


@dataclass(frozen=True)
class Recommendation:
    unit: Unit
    eta_seconds: float
    metres: float
    method: str  # "road", "ward_graph", "straight_line": how the time was estimated
    capable: bool  # meets the level of care the triage asked for
    role: str  # "transport" (an ambulance) or "first_responder" (a motorbike going ahead)
    reasons: tuple[str, ...]
    # Residents no other free unit reaches within 15 minutes once this one leaves.
    coverage_lost: int = 0


def _capable(unit: Unit, care: str) -> bool:
    if unit.kind == UnitKind.MOTORBIKE:
        return False
    if care == "als":
        return unit.kind == UnitKind.ALS_AMBULANCE
    return True


def recommend_units(
    *,
    incident: Incident,
    at: dt.datetime | None = None,
    limit: int = 5,
    model: TravelModel | None = None,
) -> list[Recommendation]:
    """Free units by arrival time, capable ambulances first, then a motorbike first
    responder when the triage allows one and it beats the first ambulance."""
    if incident.latitude is None or incident.longitude is None:
        raise errors.invalid(
            "incident.no_location",
            vi="Chưa xác nhận vị trí của sự vụ: chưa thể đề xuất xe.",
            en="The incident's location is not confirmed yet: no unit can be proposed.",
            field="location",
        )
    when = at or clock.now()
    travel = model or TravelModel.shared()
    care = str(incident.triage.get("care") or "als")  # untriaged: assume the worst
    motorbike = str(incident.triage.get("motorbike") or "allowed")
    access = Access(
        car_reachable=incident.car_reachable is not False, walk_metres=float(incident.walk_metres)
    )
    units = [
        u
        for u in Unit.objects.filter(is_active=True, status__in=ASSIGNABLE).select_related("home")
        if unit_point(u) is not None
    ]
    found: list[Recommendation] = []
    for vehicle, group in (
        (Vehicle.CAR, [u for u in units if u.kind in AMBULANCES]),
        (Vehicle.MOTORBIKE, [u for u in units if u.kind == UnitKind.MOTORBIKE]),
    ):
        if not group:
            continue
        estimate = travel.travel_seconds(
            origins=[unit_point(u) or (0.0, 0.0) for u in group],
            destination=(incident.latitude, incident.longitude),
            at=when,
            vehicle=vehicle,
            access=access,
        )
        for i, unit in enumerate(group):
            seconds = float(estimate.seconds[i])
            if not np.isfinite(seconds):
                continue
            capable = _capable(unit, care)
            reasons = [
                f"eta={seconds / 60:.1f}min",
                f"distance={float(estimate.metres[i]) / 1000:.1f}km",
                f"by={estimate.method[i]}",
                f"traffic={estimate.band}",
            ]
            if unit.kind in AMBULANCES and not capable:
                reasons.append(f"below_care={care}")
            if unit.position_at is None:
                reasons.append("position=home")
            found.append(
                Recommendation(
                    unit=unit,
                    eta_seconds=seconds,
                    metres=float(estimate.metres[i]),
                    method=estimate.method[i],
                    capable=capable,
                    role="first_responder" if unit.kind == UnitKind.MOTORBIKE else "transport",
                    reasons=tuple(reasons),
                )
            )
    ambulances = sorted(
        (r for r in found if r.role == "transport"), key=lambda r: (not r.capable, r.eta_seconds)
    )
    ambulances = _coverage_aware(
        ambulances,
        units=units,
        priority=incident.priority or "P1",
        at=when,
        travel=travel,
    )
    ranked = ambulances[:limit]
    bikes = sorted((r for r in found if r.role == "first_responder"), key=lambda r: r.eta_seconds)
    if bikes and motorbike != "no":
        first_ambulance = ambulances[0].eta_seconds if ambulances else float("inf")
        if motorbike == "preferred" or bikes[0].eta_seconds < first_ambulance:
            ranked.insert(min(1, len(ranked)), bikes[0])
    return ranked


def _coverage_aware(
    ambulances: list[Recommendation],
    *,
    units: list[Unit],
    priority: str,
    at: dt.datetime,
    travel: TravelModel,
) -> list[Recommendation]:
    """Put each option's coverage loss in its reasons; for P2–P4 move the capable ambulance
    that loses least (within the tolerance of the fastest) to the front."""
    if not ambulances:
        return ambulances
    lost = _coverage_lost(units=units, at=at, travel=travel)
    marked = [
        replace(
            r,
            coverage_lost=lost.get(r.unit.pk, 0),
            reasons=(*r.reasons, f"coverage_lost={lost.get(r.unit.pk, 0)}"),
        )
        for r in ambulances
    ]
    tolerance = TOLERANCE_SECONDS.get(priority, 0.0)
    fastest = marked[0]
    if tolerance <= 0 or not fastest.capable:
        return marked
    close = [r for r in marked if r.capable and r.eta_seconds <= fastest.eta_seconds + tolerance]
    best = min(close, key=lambda r: (r.coverage_lost, r.eta_seconds))
    if best is fastest:
        return marked
    chosen = replace(best, reasons=(*best.reasons, "chosen_for_coverage"))
    return [chosen, *[r for r in marked if r is not best]]


# The last table, keyed by the minute and the free units: recomputed when either changes.
_last_table: dict[str, dict[int, int]] = {}


def _coverage_lost(*, units: list[Unit], at: dt.datetime, travel: TravelModel) -> dict[int, int]:
    """Unit id → residents of the wards that only this unit reaches within 15 minutes."""
    usable = [(u, p) for u in units if (p := unit_point(u)) is not None]
    # Same minute, same free units within about a kilometre of where they were: same table.
    key = f"{at:%Y%m%d%H%M}:" + ",".join(
        f"{u.pk}@{p[0]:.2f},{p[1]:.2f}" for u, p in sorted(usable, key=lambda item: item[0].pk)
    )
    if key in _last_table:
        return _last_table[key]
    table = ward_travel_table(origins=[p for _u, p in usable], at=at, model=travel)
    population = np.array([ward.population for ward in ward_points()], dtype=np.int64)
    loss = sole_cover_loss(table, population, within_s=COVER_SECONDS)
    lost = {u.pk: int(loss[i]) for i, (u, _p) in enumerate(usable)}
    _last_table.clear()
    _last_table[key] = lost
    return lost
