"""Helpers the dispatch centre's write use cases share: audit, row locks in one order."""

from __future__ import annotations

from typing import Any

from cityhealth.core.audit import record_audit
from cityhealth.emergency import errors
from cityhealth.emergency.enums import OPEN_INCIDENT_STATUSES
from cityhealth.emergency.models import Incident, Unit

OPEN_STATUSES = OPEN_INCIDENT_STATUSES


def audit(
    action: str, *, actor: str, target_type: str, target_id: int | str, details: dict[str, Any]
) -> None:
    record_audit(
        actor=actor, action=action, target_type=target_type, target_id=target_id, details=details
    )


# Locks are always taken incident first, then units by ascending id: two dispatchers (or a
# dispatcher and a crew phone) touching the same rows queue up instead of deadlocking.


def lock_incident(incident_id: int) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident_id)


def lock_open_incident(incident_id: int) -> Incident:
    incident = lock_incident(incident_id)
    if incident.status not in OPEN_STATUSES:
        raise errors.incident_closed(number=incident.number)
    return incident


def lock_unit(unit_id: int) -> Unit:
    return Unit.objects.select_for_update().get(pk=unit_id)
