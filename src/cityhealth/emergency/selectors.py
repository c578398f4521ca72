"""Reads of the dispatch centre: incidents and units, for the console and the crews."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from cityhealth.accounts.models import User
from cityhealth.core import clock
from cityhealth.core.errors import PermissionDenied, not_found
from cityhealth.core.roles import Role
from cityhealth.emergency import errors
from cityhealth.emergency.enums import (
    HOSPITAL_KINDS,
    OPEN_INCIDENT_STATUSES,
    MoveUpStatus,
    Priority,
    UnitStatus,
)
from cityhealth.emergency.lifecycle import ON_JOB
from cityhealth.emergency.models import (
    OPEN_PRE_ALERT_STATUSES,
    HandsetLocation,
    Incident,
    MoveUp,
    PreAlert,
    Unit,
)
from cityhealth.facilities.models import Facility

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
    unit = (
        Unit.objects.select_related("incident", "standby_post")
        .filter(code=code.strip()[:30])
        .first()
    )
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
        "move_ups": [move_up_as_json(m) for m in open_move_ups()],
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


def handset_locations_of(incident: Incident) -> list[HandsetLocation]:
    """What the caller's phone sent for this call, newest fix first."""
    return list(
        HandsetLocation.objects.filter(incident=incident)
        .select_related("incident")
        .order_by("-positioned_at", "-pk")[:10]
    )


def incidents_received_on(day: dt.date) -> QuerySet[Incident]:
    """Every incident received on `day` of the city's calendar (local midnight to local
    midnight, stored instants being UTC), oldest first: a recorded day, for the replay."""
    zone = clock.local_zone()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return (
        Incident.objects.filter(received_at__gte=start, received_at__lt=end)
        .select_related("ward")
        .order_by("received_at", "pk")
    )


def open_move_ups() -> list[MoveUp]:
    """The move-up suggestion waiting for the dispatcher (the newest only is kept open)."""
    return list(
        MoveUp.objects.filter(status=MoveUpStatus.PROPOSED)
        .select_related("unit", "post", "after_incident")
        .order_by("-suggested_at")[:5]
    )


def get_move_up(move_up_id: int) -> MoveUp:
    found = (
        MoveUp.objects.select_related("unit", "post").filter(pk=move_up_id).first()
        if 0 < move_up_id <= MAX_ID
        else None
    )
    if found is None:
        raise errors.move_up_not_found()
    return found


def move_up_as_json(move_up: MoveUp) -> dict[str, Any]:
    return {
        "id": move_up.pk,
        "unit": move_up.unit.code,
        "call_sign": move_up.unit.call_sign,
        "post": move_up.post.code,
        "post_name": move_up.post.name,
        "gain_residents": move_up.gain_residents,
        "gain_share": move_up.gain_share,
        "drive_minutes": round(move_up.drive_seconds / 60, 1),
        "after_incident": move_up.after_incident.number if move_up.after_incident else None,
        "suggested_at": iso_or_none(move_up.suggested_at),
        "status": move_up.status,
    }


# --- the receiving hospital's side ---------------------------------------------------------

# An alert whose patient never came (nobody closed it) leaves the screen this long after
# its ETA, so the list shows what is coming, not yesterday's forgotten runs.
SHOWN_AFTER_ETA = dt.timedelta(hours=2)


def receiving_hospital(principal: object, code: str = "") -> Facility | None:
    """The hospital whose incoming patients and status `principal` may see and publish.

    A hospital system's API client speaks for the hospital it is registered to; a member of
    an emergency department's staff for the hospital of their membership; an administrator
    for any hospital named by `code` (None until one is named). Asking for another hospital
    is refused the same way whether or not it exists."""
    code = code.strip()[:20]
    client = getattr(principal, "client", None)
    if client is not None:  # an API token
        own = Facility.objects.filter(pk=client.facility_id, kind__in=HOSPITAL_KINDS)
    elif isinstance(principal, User) and Role.ADMIN in principal.roles:
        if not code:
            return None
        facility = Facility.objects.filter(code=code, kind__in=HOSPITAL_KINDS).first()
        if facility is None:
            raise not_found("Facility", "cơ sở y tế")
        return facility
    elif isinstance(principal, User):
        own = Facility.objects.filter(
            memberships__user=principal, memberships__role=Role.ED_STAFF, kind__in=HOSPITAL_KINDS
        ).distinct()
    else:
        own = Facility.objects.none()
    facility = own.filter(code=code).first() if code else own.order_by("code").first()
    if code and facility is None:
        raise PermissionDenied(
            "pre_alert.other_hospital",
            vi="Bạn chỉ xem được bệnh nhân đang đến bệnh viện của mình.",
            en="You may only see the patients coming to your own hospital.",
        )
    return facility


def incoming_pre_alerts(facility: Facility) -> list[PreAlert]:
    """Open alerts for `facility`, the soonest arrival first."""
    return list(
        PreAlert.objects.filter(
            facility=facility,
            status__in=OPEN_PRE_ALERT_STATUSES,
            eta_at__gte=clock.now() - SHOWN_AFTER_ETA,
        )
        .select_related("incident", "unit")
        .order_by("eta_at")
    )


def get_pre_alert(alert_id: int) -> PreAlert:
    alert = PreAlert.objects.filter(pk=alert_id).first() if 0 < alert_id <= MAX_ID else None
    if alert is None:
        raise not_found("Pre-alert", "báo trước")
    return alert
