"""The fastest right unit for an incident: every free unit's travel time to the patient at
this hour (alley included), filtered by what the triage asks for, each with its reasons.

Capable means: an ALS ambulance where the protocol asks for advanced life support; any
ambulance for basic life support; a motorbike first responder is never enough on its own to
transport, but where the protocol allows one to go ahead and it arrives first it is listed
as the first responder beside the ambulance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.enums import UnitKind
from cityhealth.emergency.lifecycle import ASSIGNABLE
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.routing import Access, TravelModel, Vehicle

AMBULANCES = {UnitKind.ALS_AMBULANCE, UnitKind.BLS_AMBULANCE}


@dataclass(frozen=True)
class Recommendation:
    unit: Unit
    eta_seconds: float
    metres: float
    method: str  # "road", "ward_graph", "straight_line": how the time was estimated
    capable: bool  # meets the level of care the triage asked for
    role: str  # "transport" (an ambulance) or "first_responder" (a motorbike going ahead)
    reasons: tuple[str, ...]


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
        if _position(u) is not None
    ]
    found: list[Recommendation] = []
    for vehicle, group in (
        (Vehicle.CAR, [u for u in units if u.kind in AMBULANCES]),
        (Vehicle.MOTORBIKE, [u for u in units if u.kind == UnitKind.MOTORBIKE]),
    ):
        if not group:
            continue
        estimate = travel.travel_seconds(
            origins=[_position(u) or (0.0, 0.0) for u in group],
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
    ranked = ambulances[:limit]
    bikes = sorted((r for r in found if r.role == "first_responder"), key=lambda r: r.eta_seconds)
    if bikes and motorbike != "no":
        first_ambulance = ambulances[0].eta_seconds if ambulances else float("inf")
        if motorbike == "preferred" or bikes[0].eta_seconds < first_ambulance:
            ranked.insert(min(1, len(ranked)), bikes[0])
    return ranked


def _position(unit: Unit) -> tuple[float, float] | None:
    """Where the unit is: its last reported position, else its home station."""
    if unit.latitude is not None and unit.longitude is not None:
        return unit.latitude, unit.longitude
    if unit.home is not None and unit.home.latitude is not None and unit.home.longitude is not None:
        return unit.home.latitude, unit.home.longitude
    return None
