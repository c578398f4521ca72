"""Units: assignment to an incident, status changes from the console or the crew's phone,
standing down, and positions reported by the crews' devices (AVL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from cityhealth.core import clock
from cityhealth.emergency import errors
from cityhealth.emergency.enums import AssignmentStatus, IncidentStatus, UnitStatus
from cityhealth.emergency.lifecycle import ASSIGNABLE, INCIDENT_STAMPS, ON_JOB, is_legal
from cityhealth.emergency.models import (
    Assignment,
    Incident,
    Unit,
    UnitStatusChange,
)
from cityhealth.emergency.services._shared import (
    audit,
    check_point,
    lock_incident,
    lock_open_incident,
    lock_unit,
)

# A position measured further ahead than this is a device clock gone wrong.
MAX_CLOCK_AHEAD = dt.timedelta(minutes=2)


def _change_status(
    unit: Unit,
    to_status: str,
    *,
    actor: str,
    source: str,
    incident: Incident | None,
    at: dt.datetime,
) -> None:
    """Write the change on a locked unit (legality checked by the caller)."""
    UnitStatusChange.objects.create(
        unit=unit,
        from_status=unit.status,
        to_status=to_status,
        at=at,
        incident=incident,
        actor=actor,
        source=source,
    )
    audit(
        "unit.status_changed",
        actor=actor,
        target_type="unit",
        target_id=unit.pk,
        details={
            "unit": unit.code,
            "from": unit.status,
            "to": to_status,
            "incident": incident.number if incident else None,
            "source": source,
        },
    )
    unit.status = to_status
    unit.status_since = at


def assign_unit(*, incident: Incident, unit: Unit, actor: str) -> Assignment:
    """Send `unit` to `incident`. Two dispatchers choosing one unit at the same moment: the
    second is told the unit is no longer available (row locks, then a unique constraint)."""
    incident = lock_open_incident(incident.pk)
    unit = lock_unit(unit.pk)
    if incident.location_confirmed_at is None:
        raise errors.invalid(
            "incident.no_location",
            vi="Chưa xác nhận vị trí của sự vụ: chưa thể điều xe.",
            en="The incident's location is not confirmed yet: no unit can be sent.",
            field="location",
        )
    if not unit.is_active or unit.status not in ASSIGNABLE:
        raise errors.unit_not_available(unit=unit.code, status=unit.status)
    now = clock.now()
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                incident=incident, unit=unit, assigned_at=now, assigned_by=actor
            )
    except IntegrityError:
        raise errors.unit_not_available(unit=unit.code, status=unit.status) from None
    _change_status(
        unit, UnitStatus.DISPATCHED, actor=actor, source="dispatcher", incident=incident, at=now
    )
    unit.incident = incident
    unit.standby_post = None  # after this job it goes home unless moved again
    unit.save(update_fields=["status", "status_since", "incident", "standby_post"])
    if incident.assigned_at is None:
        incident.assigned_at = now
    incident.status = IncidentStatus.ASSIGNED
    incident.save(update_fields=["assigned_at", "status"])
    audit(
        "incident.unit_assigned",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"unit": unit.code, "assignment": assignment.pk},
    )
    # The cover is thinner now: a move-up is worked out once this is committed (a rolled-back
    # assignment must not leave a suggestion behind).
    incident_id = incident.pk
    transaction.on_commit(lambda: _suggest_move_up_later(incident_id))
    return assignment


def _suggest_move_up_later(incident_id: int) -> None:
    from cityhealth.emergency.tasks import suggest_move_up_after_assignment

    suggest_move_up_after_assignment.enqueue(incident_id=incident_id)


def _end_assignment(
    unit: Unit, incident: Incident | None, *, status: str, reason: str, at: dt.datetime
) -> None:
    if incident is None:
        return
    Assignment.objects.filter(unit=unit, incident=incident, status=AssignmentStatus.ACTIVE).update(
        status=status, ended_at=at, end_reason=reason[:200]
    )
    still_busy = incident.assignments.filter(status=AssignmentStatus.ACTIVE).exists()
    if still_busy:
        return
    if incident.on_scene_at is not None:
        # The crew reached the patient: the unit free again ends the incident.
        incident.unit_free_at = incident.unit_free_at or at
        if incident.status != IncidentStatus.CANCELLED:
            incident.status = IncidentStatus.CLOSED
            incident.closed_at = incident.closed_at or at
    elif incident.status == IncidentStatus.ASSIGNED:
        incident.status = IncidentStatus.PENDING  # back in the queue: it still needs a unit
    incident.save(update_fields=["unit_free_at", "status", "closed_at"])


def record_unit_status(
    *, unit: Unit, status: str, actor: str, source: str = "crew", at: dt.datetime | None = None
) -> Unit:
    """A status change from the crew's phone or the console, if the table of legal
    transitions allows it; stamps the incident (en route, on scene, left scene, at hospital)
    and frees the unit when the job is done."""
    try:
        to_status = UnitStatus(status)
    except ValueError:
        raise errors.invalid(
            "unit.bad_status",
            vi="Trạng thái xe không hợp lệ.",
            en="That is not a unit status.",
            field="status",
        ) from None
    when = at or clock.now()
    # Lock order: the incident first, then the unit (as assign_unit does).
    incident_id = Unit.objects.filter(pk=unit.pk).values_list("incident_id", flat=True).first()
    incident = lock_incident(incident_id) if incident_id else None
    unit = lock_unit(unit.pk)
    if unit.incident_id != incident_id:  # reassigned between the two reads: start again
        raise errors.unit_not_available(unit=unit.code, status=unit.status)
    if unit.status == to_status:
        return unit  # a repeated press of the same button
    if not is_legal(unit.status, to_status):
        raise errors.illegal_status_change(
            unit=unit.code, from_status=unit.status, to_status=to_status
        )
    was_on_job = unit.status in ON_JOB
    _change_status(unit, to_status, actor=actor, source=source, incident=incident, at=when)
    if incident is not None and to_status in INCIDENT_STAMPS:
        field = INCIDENT_STAMPS[to_status]
        if getattr(incident, field) is None:
            setattr(incident, field, when)
            incident.save(update_fields=[field])
    if was_on_job and to_status not in ON_JOB:
        ended = (
            AssignmentStatus.COMPLETED
            if incident is not None and incident.on_scene_at is not None
            else AssignmentStatus.STOOD_DOWN
        )
        _end_assignment(unit, incident, status=ended, reason=f"unit {to_status}", at=when)
        unit.incident = None
    unit.save(update_fields=["status", "status_since", "incident"])
    return unit


def stand_down(*, assignment: Assignment, reason: str, actor: str) -> Assignment:
    """Call a unit off its incident before it reaches the patient (cancelled, a closer unit
    found): dispatched → available, en route → returning."""
    incident = lock_incident(assignment.incident_id)
    unit = lock_unit(assignment.unit_id)
    assignment.refresh_from_db()
    if assignment.status != AssignmentStatus.ACTIVE:
        return assignment
    target = UnitStatus.AVAILABLE if unit.status == UnitStatus.DISPATCHED else UnitStatus.RETURNING
    if not is_legal(unit.status, target):
        raise errors.illegal_status_change(
            unit=unit.code, from_status=unit.status, to_status=target
        )
    now = clock.now()
    _change_status(unit, target, actor=actor, source="dispatcher", incident=incident, at=now)
    unit.incident = None
    unit.save(update_fields=["status", "status_since", "incident"])
    _end_assignment(unit, incident, status=AssignmentStatus.STOOD_DOWN, reason=reason, at=now)
    assignment.refresh_from_db()
    return assignment


@dataclass(frozen=True)
class PositionReport:
    latitude: float
    longitude: float
    at: dt.datetime
    speed_kmh: float | None = None
    heading: float | None = None


@dataclass(frozen=True)
class PositionsRecorded:
    stored: int
    latest_moved: bool  # the unit's current position changed
    rejected: list[str]  # why each refused report was refused, in order


def record_positions(*, unit: Unit, reports: list[PositionReport]) -> PositionsRecorded:
    """Store a device's positions. Reports may arrive late or out of order (a tunnel, a
    retry): all are kept for the track, but only a newer one moves the unit on the map."""
    return _store_positions(unit.pk, reports)


def record_unit_positions(*, code: str, reports: list[PositionReport]) -> PositionsRecorded:
    """`record_positions` for a device that names its unit by code (the AVL endpoint);
    an unknown code is `not_found`, as for every other unit endpoint."""
    with connection.cursor() as cursor:
        cursor.execute(_UNIT_ID, [code.strip()[:30]])
        row = cursor.fetchone()
    if row is None:
        raise errors.unit_not_found()
    return _store_positions(int(row[0]), reports)


@dataclass(frozen=True)
class FleetPositionsRecorded:
    stored: int
    moved: list[str]  # codes of the units whose current position changed
    rejected: list[str]  # "CODE: reason" for each refused report, in order
    unknown_units: list[str]


def record_fleet_positions(*, reports: list[tuple[str, PositionReport]]) -> FleetPositionsRecorded:
    """A gateway's batch: the fixes of many units at once (a fleet's telematics server
    forwarding its devices' latest fixes every second), each unit as `record_unit_positions`.
    Units are written in id order, so two gateways sharing units never deadlock."""
    by_code: dict[str, list[PositionReport]] = {}
    for code, report in reports:
        by_code.setdefault(code.strip()[:30], []).append(report)
    ids = dict(Unit.objects.filter(code__in=list(by_code)).values_list("code", "id"))
    stored, moved, rejected = 0, [], []
    for code in sorted(ids, key=ids.__getitem__):
        recorded = _store_positions(ids[code], by_code[code])
        stored += recorded.stored
        if recorded.latest_moved:
            moved.append(code)
        rejected += [f"{code}: {reason}" for reason in recorded.rejected]
    unknown = sorted(code for code in by_code if code not in ids)
    return FleetPositionsRecorded(
        stored=stored, moved=moved, rejected=rejected, unknown_units=unknown
    )


# Every crew device reports every few seconds: this is the busiest write of the platform, and
# on SQLite it runs under the database's single write lock. Its three statements are written
# out (tables Unit and UnitPosition) rather than built by the ORM each time, which cost more
# than running them.
_UNIT_ID = "SELECT id FROM emergency_units WHERE code = %s"
_INSERT_POSITIONS = (
    "INSERT INTO emergency_unit_positions "
    "(unit_id, latitude, longitude, at, received_at, speed_kmh, heading) VALUES "
)
_POSITION_ROW = "(%s, %s, %s, %s, %s, %s, %s)"
_INSERT_ROWS = 500  # bounded statements: a long-silent device may send a long backlog
# The one conditional UPDATE that moves the unit: no lock taken beforehand, and an older
# report can never win a race against a newer one.
_MOVE_UNIT = (
    "UPDATE emergency_units SET latitude = %s, longitude = %s, position_at = %s "
    "WHERE id = %s AND (position_at IS NULL OR position_at < %s)"
)


def _store_positions(unit_id: int, reports: list[PositionReport]) -> PositionsRecorded:
    now = clock.now()
    rows: list[PositionReport] = []
    rejected: list[str] = []
    for report in reports:
        try:
            check_point(report.latitude, report.longitude)
        except Exception:
            rejected.append("location.outside_city")
            continue
        if report.at.tzinfo is None or report.at.utcoffset() is None:
            rejected.append("position.no_time_zone")  # a device clock that says not which zone
            continue
        if report.at > now + MAX_CLOCK_AHEAD:
            rejected.append("position.in_the_future")
            continue
        rows.append(report)
    if not rows:
        return PositionsRecorded(stored=0, latest_moved=False, rejected=rejected)
    at = connection.ops.adapt_datetimefield_value  # as the ORM stores a DateTimeField
    received = at(now)
    with connection.cursor() as cursor:
        for first in range(0, len(rows), _INSERT_ROWS):
            chunk = rows[first : first + _INSERT_ROWS]
            cursor.execute(
                _INSERT_POSITIONS + ", ".join([_POSITION_ROW] * len(chunk)),
                [
                    value
                    for r in chunk
                    for value in (
                        unit_id,
                        r.latitude,
                        r.longitude,
                        at(r.at),
                        received,
                        r.speed_kmh,
                        r.heading,
                    )
                ],
            )
        newest = max(rows, key=lambda r: r.at)
        when = at(newest.at)
        cursor.execute(_MOVE_UNIT, [newest.latitude, newest.longitude, when, unit_id, when])
        moved = cursor.rowcount > 0
    return PositionsRecorded(stored=len(rows), latest_moved=moved, rejected=rejected)
