"""The demo fleet: one ambulance on 24/7 duty at each 115 station (as published for 2023),
and at the centre a few ambulances and motorbike first responders for the alleys. The
centre's numbers are an assumption for the demo (the real fleet is not published)."""

from __future__ import annotations

from cityhealth.core import clock
from cityhealth.emergency.enums import Operator, UnitKind
from cityhealth.emergency.models import Unit
from cityhealth.facilities.enums import FacilityKind
from cityhealth.facilities.models import Facility

CENTRE_FLEET = (
    ("A1", UnitKind.ALS_AMBULANCE),
    ("A2", UnitKind.ALS_AMBULANCE),
    ("B1", UnitKind.BLS_AMBULANCE),
    ("M1", UnitKind.MOTORBIKE),
    ("M2", UnitKind.MOTORBIKE),
)
STATION_FLEET = (("A1", UnitKind.ALS_AMBULANCE),)
CAPABILITIES = {
    UnitKind.ALS_AMBULANCE: ["als", "transport", "defibrillator", "ventilator"],
    UnitKind.BLS_AMBULANCE: ["bls", "transport", "defibrillator"],
    UnitKind.MOTORBIKE: ["first_response", "defibrillator", "alley_access"],
}


def ensure_demo_fleet() -> int:
    """Create the units the 115 centre and stations in the registry lack; the number made."""
    made = 0
    homes = Facility.objects.filter(
        kind__in=[FacilityKind.EMERGENCY_CENTRE, FacilityKind.EMERGENCY_STATION], is_active=True
    ).order_by("code")
    for home in homes:
        centre = home.kind == FacilityKind.EMERGENCY_CENTRE
        for suffix, kind in CENTRE_FLEET if centre else STATION_FLEET:
            _unit, created = Unit.objects.get_or_create(
                code=f"{home.code}-{suffix}",
                defaults={
                    "call_sign": f"{home.code} {suffix}",
                    "kind": kind,
                    "operator": Operator.CENTRE if centre else Operator.STATION,
                    "home": home,
                    "capabilities": CAPABILITIES[kind],
                    "status_since": clock.now(),
                    "latitude": home.latitude,
                    "longitude": home.longitude,
                    "position_at": clock.now() if home.latitude is not None else None,
                },
            )
            made += int(created)
    return made
