"""Helpers the dispatch centre's write use cases share: audit, row locks in one order."""

from __future__ import annotations

import math
import re
from typing import Any

from cityhealth.core.audit import record_audit
from cityhealth.core.phones import national_form
from cityhealth.emergency import errors
from cityhealth.emergency.enums import OPEN_INCIDENT_STATUSES
from cityhealth.emergency.models import Incident, Unit

OPEN_STATUSES = OPEN_INCIDENT_STATUSES
# Hà Nội's extent with a margin (the ward polygons span 20.56–21.39 N, 105.28–106.02 E).
CITY_BOUNDS = (20.50, 21.45, 105.25, 106.05)


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


def check_point(latitude: float, longitude: float) -> tuple[float, float]:
    """A coordinate inside the city, or a clear error (a handset in another province, a
    swapped latitude and longitude, a map click off the edge)."""
    south, north, west, east = CITY_BOUNDS
    if not (math.isfinite(latitude) and math.isfinite(longitude)) or not (
        south <= latitude <= north and west <= longitude <= east
    ):
        raise errors.invalid(
            "location.outside_city",
            vi="Vị trí này nằm ngoài Hà Nội; kiểm tra lại (vĩ độ và kinh độ có bị đảo không?).",
            en="This point is outside Hà Nội; check it (are latitude and longitude swapped?).",
            field="latitude",
        )
    return latitude, longitude


# What the telephone system sends: its own id for a call or a message, and a number.
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_PHONE = re.compile(r"\+?[0-9]{3,15}")


def checked_external_id(value: str, *, code: str, vi: str, en: str, field: str) -> str:
    """Another system's id for a message (a call, a location): 1–64 plain characters."""
    value = value.strip()
    if not _EXTERNAL_ID.fullmatch(value):
        raise errors.invalid(code, vi=vi, en=en, field=field)
    return value


def checked_phone(raw: str, *, code: str, vi: str, en: str, field: str) -> str:
    """A caller's number in its national form; "" stays "" (a hidden number)."""
    number = national_form(raw)
    if number and not _PHONE.fullmatch(number):
        raise errors.invalid(code, vi=vi, en=en, field=field)
    return number
