"""Reads of the dispatch centre: incidents and units, for the console and the crews."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.enums import OPEN_INCIDENT_STATUSES, Priority, UnitStatus
from cityhealth.emergency.lifecycle import ON_JOB
from cityhealth.emergency.models import Incident, Unit

MAX_ID = 2**63 - 1


def get_incident(incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_related("ward", "possible_duplicate_of")
        .filter(pk=incident_id)
        .first()
        if 0 < incident_id <= MAX_ID
        else None
    )
    if incident is None:
        raise errors.incident_not_found()
    return incident


def open_incidents() -> QuerySet[Incident]:
    """The dispatch queue: open incidents, the most urgent first, then the oldest."""
    return (
        Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)
        .select_related("ward", "possible_duplicate_of")
        .order_by("priority", "received_at")
    )


def get_unit(code: str) -> Unit:
    unit = Unit.objects.select_related("incident").filter(code=code.strip()[:30]).first()
    if unit is None:
        raise errors.unit_not_found()
    return unit


def list_units() -> QuerySet[Unit]:
    return Unit.objects.filter(is_active=True).select_related("incident", "home")


# --- the console's live picture ------------------------------------------------------------

# A P1 call should have a unit within a minute of being known; a moving unit reports its
# position every few seconds, so 90 s of silence means a lost device or a dead zone.
P1_UNASSIGNED_ALERT = dt.timedelta(seconds=60)
POSITION_STALE_ALERT = dt.timedelta(seconds=90)


def console_snapshot(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open incidents, units and alerts as plain JSON, for the console's live view."""
    at = now or clock.now()
    incidents = list(open_incidents()[:200])
    units = list(list_units())
    alerts: list[dict[str, str | None]] = []
    for incident in incidents:
        if (
            incident.priority == Priority.P1
            and incident.assigned_at is None
            and at - incident.received_at > P1_UNASSIGNED_ALERT
        ):
            alerts.append(
                {
                    "code": "p1_unassigned",
                    "incident": incident.number,
                    "since": iso_or_none(incident.received_at),
                }
            )
    for unit in units:
        moving = unit.status in ON_JOB or unit.status == UnitStatus.RETURNING
        if moving and (unit.position_at is None or at - unit.position_at > POSITION_STALE_ALERT):
            alerts.append(
                {
                    "code": "position_stale",
                    "unit": unit.code,
                    "since": iso_or_none(unit.position_at),
                }
            )
    return {
        "at": at.isoformat(),
        "incidents": [
            {
                "id": i.pk,
                "number": i.number,
                "status": i.status,
                "priority": i.priority,
                "received_at": iso_or_none(i.received_at),
                "latitude": i.latitude,
                "longitude": i.longitude,
                "place": i.address or (i.ward.name if i.ward else ""),
                "complaint": i.complaint,
                "duplicate_of": i.possible_duplicate_of.number if i.possible_duplicate_of else None,
            }
            for i in incidents
        ],
        "units": [
            {
                "code": u.code,
                "call_sign": u.call_sign,
                "kind": u.kind,
                "status": u.status,
                "status_since": iso_or_none(u.status_since),
                "incident": u.incident.number if u.incident else None,
                "latitude": u.latitude,
                "longitude": u.longitude,
                "position_at": iso_or_none(u.position_at),
            }
            for u in units
        ],
        "alerts": alerts,
    }


def iso_or_none(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def unit_point(unit: Unit) -> tuple[float, float] | None:
    """Where a unit is: its last reported position, else its home station (select `home`)."""
    if unit.latitude is not None and unit.longitude is not None:
        return unit.latitude, unit.longitude
    home = unit.home
    if home is not None and home.latitude is not None and home.longitude is not None:
        return home.latitude, home.longitude
    return None


@lru_cache(maxsize=1)
def ward_outlines_geojson() -> bytes:
    """The 126 ward outlines the maps draw (no online tiles), read once per process."""
    return (settings.DATA_DIR / "geo" / "hanoi_wards_2025_boundaries.geojson").read_bytes()
