"""Which unit status may follow which, and what each change stamps on the incident.

Kept as data so that the crew phone, the console and the tests read the same table: a status
change that is not listed here is refused, whoever asks.
"""

from __future__ import annotations

from cityhealth.emergency.enums import UnitStatus as S

LEGAL_TRANSITIONS: dict[str, frozenset[str]] = {
    # returning: driving to another post on the dispatcher's move-up order
    S.AVAILABLE: frozenset({S.DISPATCHED, S.RETURNING, S.OUT_OF_SERVICE}),
    S.DISPATCHED: frozenset({S.EN_ROUTE, S.AVAILABLE}),  # available: stood down before rolling
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.RETURNING}),  # returning: stood down on the way
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.RETURNING}),  # returning: no transport needed
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.RETURNING, S.AVAILABLE}),
    S.RETURNING: frozenset({S.AVAILABLE, S.DISPATCHED, S.OUT_OF_SERVICE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE}),
}

# Statuses in which a unit can take a new job (a returning crew can be sent on at once).
ASSIGNABLE: frozenset[str] = frozenset({S.AVAILABLE, S.RETURNING})
# Statuses that mean the unit is busy with its incident.
ON_JOB: frozenset[str] = frozenset(
    {S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL}
)

# The incident timestamp a unit's status change sets (the first time only).
INCIDENT_STAMPS: dict[str, str] = {
    S.EN_ROUTE: "en_route_at",
    S.ON_SCENE: "on_scene_at",
    S.TRANSPORTING: "left_scene_at",
    S.AT_HOSPITAL: "at_hospital_at",
}


def is_legal(from_status: str, to_status: str) -> bool:
    return to_status in LEGAL_TRANSITIONS.get(from_status, frozenset())
