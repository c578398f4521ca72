"""Calls and incidents: from the telephone system's first report to triage, and cancellation.

A call is never lost: the telephone system's report creates the incident before anyone
answers, and whatever the call-taker types is saved in `Incident.draft` (with a version, so a
second screen cannot overwrite it unseen) until it is confirmed into the incident's fields.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from cityhealth.core import clock
from cityhealth.core.errors import NotFound
from cityhealth.emergency import errors, triage
from cityhealth.emergency.enums import (
    AssignmentStatus,
    IncidentStatus,
    LocationMethod,
    Priority,
)
from cityhealth.emergency.models import Incident
from cityhealth.emergency.routing import TravelModel
from cityhealth.emergency.routing.geometry import haversine_m
from cityhealth.emergency.services._shared import (
    OPEN_STATUSES,
    audit,
    check_point,
    checked_external_id,
    checked_phone,
    lock_incident,
    lock_open_incident,
)
from cityhealth.emergency.services.handset import attach_waiting_handset_locations
from cityhealth.geo.models import Ward
from cityhealth.geo.selectors import get_ward

# Two calls this close in place and time are probably one emergency (a crash seen by many).
DUPLICATE_METRES = 200.0
DUPLICATE_MINUTES = 20
DRAFT_FIELDS = {
    "address": 300,
    "ward": 5,
    "location_method": 10,
    "latitude": None,
    "longitude": None,
    "car_reachable": None,
    "walk_metres": None,
    "patients": None,
    "complaint": 40,
    "answers": None,
    "caller_name": 120,
    "callback_number": 20,
    "notes": 2000,
}


@dataclass(frozen=True)
class ReceivedCall:
    incident: Incident
    created: bool  # False when the telephone system repeated a report already received


def _number_for(incident: Incident) -> str:
    return f"{incident.received_at:%y%m%d}-{incident.pk:06d}"


def receive_call(
    *,
    call_id: str,
    caller_number: str,
    received_at: dt.datetime | None = None,
    actor: str,
) -> ReceivedCall:
    """Open an incident for a ringing call. The same `call_id` again (webhooks are retried)
    answers the incident already open; the caller number may be hidden ("")."""
    call_id = checked_external_id(
        call_id,
        code="call.bad_call_id",
        vi="Mã cuộc gọi từ tổng đài không hợp lệ.",
        en="The telephone system's call id is not valid.",
        field="call_id",
    )
    number = checked_phone(
        caller_number,
        code="call.bad_caller_number",
        vi="Số máy gọi đến không hợp lệ.",
        en="The caller's number is not valid.",
        field="caller_number",
    )
    existing = Incident.objects.filter(call_id=call_id).first()
    if existing is not None:
        return ReceivedCall(existing, created=False)
    at = received_at or clock.now()
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                number=f"new-{uuid.uuid4().hex[:16]}",
                call_id=call_id,
                caller_number=number,
                received_at=at,
            )
    except IntegrityError:
        # The same report arrived twice at the same moment: the other one created it.
        return ReceivedCall(Incident.objects.get(call_id=call_id), created=False)
    incident.number = _number_for(incident)
    incident.save(update_fields=["number"])
    attach_waiting_handset_locations(incident)
    audit(
        "incident.received",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"number": incident.number, "caller_number": number, "call_id": call_id},
    )
    return ReceivedCall(incident, created=True)


def answer_call(*, incident: Incident, actor: str) -> Incident:
    """A call-taker picks the call up (first answer counts; a second is a no-op)."""
    incident = lock_open_incident(incident.pk)
    if incident.answered_at is None:
        incident.answered_at = clock.now()
        incident.call_taker = actor
        incident.status = IncidentStatus.TAKING
        incident.save(update_fields=["answered_at", "call_taker", "status"])
        audit(
            "incident.answered",
            actor=actor,
            target_type="incident",
            target_id=incident.pk,
            details={"number": incident.number},
        )
    return incident


def save_call_draft(
    *, incident: Incident, fields: dict[str, Any], version: int, actor: str
) -> Incident:
    """Keep what the call-taker has typed so far. `version` must be the one the screen last
    saw; a newer one means another screen saved meanwhile (`incident.stale_draft`)."""
    locked = lock_incident(incident.pk)
    if locked.version != version:
        raise errors.stale_draft(version=locked.version)
    draft = dict(locked.draft)
    for name, value in fields.items():
        if name not in DRAFT_FIELDS:
            raise errors.invalid(
                "incident.unknown_draft_field",
                vi=f"Trường «{name[:40]}» không có trong phiếu.",
                en=f"The form has no field “{name[:40]}”.",
                field=name[:40],
            )
        limit = DRAFT_FIELDS[name]
        if isinstance(value, str) and limit is not None:
            value = value[:limit]
        draft[name] = value
    locked.draft = draft
    locked.version = version + 1
    locked.save(update_fields=["draft", "version"])
    return locked


def find_possible_duplicate(incident: Incident) -> Incident | None:
    """The nearest other open incident within 200 m received in the 20 minutes before."""
    if incident.latitude is None or incident.longitude is None:
        return None
    since = incident.received_at - dt.timedelta(minutes=DUPLICATE_MINUTES)
    nearby = (
        Incident.objects.filter(
            status__in=OPEN_STATUSES,
            received_at__gte=since,
            received_at__lte=incident.received_at,
            latitude__isnull=False,
        )
        .exclude(pk=incident.pk)
        .only("id", "number", "latitude", "longitude", "received_at")
    )
    best: tuple[float, Incident] | None = None
    for other in nearby:
        there = (other.latitude or 0.0, other.longitude or 0.0)  # not null: filtered above
        d = float(haversine_m(incident.latitude, incident.longitude, *there))
        if d <= DUPLICATE_METRES and (best is None or d < best[0]):
            best = (d, other)
    return best[1] if best else None


def confirm_location(
    *,
    incident: Incident,
    latitude: float,
    longitude: float,
    method: str,
    actor: str,
    address: str = "",
    ward_code: str = "",
    car_reachable: bool | None = None,
    walk_metres: int = 0,
    patients: int = 1,
) -> Incident:
    """Fix where the patient is, how a crew reaches the door, and how many patients there
    are; flags a probable duplicate (same place, minutes apart) for the call-taker."""
    check_point(latitude, longitude)
    try:
        location_method = LocationMethod(method)
    except ValueError:
        raise errors.invalid(
            "location.bad_method",
            vi="Cách xác định vị trí là address, map hoặc handset.",
            en="The location method is address, map or handset.",
            field="method",
        ) from None
    if not 0 <= walk_metres <= 5000 or not 1 <= patients <= 500:
        raise errors.invalid(
            "location.bad_numbers",
            vi="Quãng đi bộ từ 0 đến 5000 m, số người bệnh từ 1 đến 500.",
            en="The walk is 0 to 5,000 m and the patients 1 to 500.",
            field="walk_metres",
        )
    # The ward polygons decide what is in the city (the box above only catches the absurd);
    # the point's ward fills the ward when the call-taker did not pick one.
    point_ward = TravelModel.shared().ward_of(latitude, longitude)
    if point_ward is None:
        raise errors.invalid(
            "location.outside_city",
            vi="Vị trí này nằm ngoài địa bàn Hà Nội; kiểm tra lại.",
            en="This point is outside Hà Nội's wards; check it.",
            field="latitude",
        )
    ward = None
    if ward_code.strip():
        try:
            ward = get_ward(ward_code.strip())
        except NotFound:
            raise errors.invalid(
                "location.unknown_ward",
                vi="Không có phường/xã với mã này.",
                en="There is no ward with this code.",
                field="ward",
            ) from None
    else:
        ward = Ward.objects.filter(code=point_ward).first()  # None if wards are not loaded
    incident = lock_open_incident(incident.pk)
    incident.latitude, incident.longitude = latitude, longitude
    incident.location_method = location_method
    incident.address = address.strip()[:300]
    incident.ward = ward
    incident.car_reachable = car_reachable
    incident.walk_metres = walk_metres
    incident.patients = patients
    if incident.location_confirmed_at is None:
        incident.location_confirmed_at = clock.now()
    incident.possible_duplicate_of = find_possible_duplicate(incident)
    _advance_to_pending(incident)
    incident.save()
    audit(
        "incident.location_confirmed",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={
            "method": location_method.value,
            "ward": ward.code if ward else "",
            "car_reachable": car_reachable,
            "walk_metres": walk_metres,
            "patients": patients,
            "possible_duplicate_of": (
                incident.possible_duplicate_of.number if incident.possible_duplicate_of else None
            ),
        },
    )
    return incident


def record_triage(
    *, incident: Incident, priority: str, complaint: str, outcome: dict[str, Any], actor: str
) -> Incident:
    """Keep the protocol's outcome (priority, level of care, advice, protocol version) as it
    was given, so the call can be re-read against the protocol of that day."""
    try:
        level = Priority(priority)
    except ValueError:
        raise errors.invalid(
            "triage.bad_priority",
            vi="Mức ưu tiên là P1, P2, P3 hoặc P4.",
            en="The priority is P1, P2, P3 or P4.",
            field="priority",
        ) from None
    incident = lock_open_incident(incident.pk)
    previous = incident.priority
    incident.priority = level
    incident.complaint = complaint[:40]
    incident.triage = outcome
    if incident.triaged_at is None:
        incident.triaged_at = clock.now()
    _advance_to_pending(incident)
    incident.save()
    audit(
        "incident.triaged",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"priority": level.value, "previous": previous, "complaint": complaint[:40]},
    )
    return incident


def triage_incident(
    *, incident: Incident, complaint_code: str, answers: dict[str, str], actor: str
) -> Incident:
    """Triage by the protocol in force: the answers given lead to a priority, a level of care
    and the instructions to read; all of it is kept on the incident with the protocol's
    version. Unanswered questions give `triage.needs_answer` (ask `next_question` first)."""
    outcome = triage.evaluate(
        triage.current_protocol(), complaint_code=complaint_code, answers=answers
    )
    return record_triage(
        incident=incident,
        priority=outcome.priority,
        complaint=outcome.complaint_code,
        outcome=outcome.as_record(),
        actor=actor,
    )


def _advance_to_pending(incident: Incident) -> None:
    """Located and triaged, not yet assigned: the incident waits in the dispatch queue."""
    if (
        incident.status in (IncidentStatus.RECEIVED, IncidentStatus.TAKING)
        and incident.location_confirmed_at is not None
        and incident.triaged_at is not None
    ):
        incident.status = IncidentStatus.PENDING


def record_incident_event(*, incident: Incident, event: str, actor: str) -> Incident:
    """A moment that no unit status marks: first contact with the patient, the handover."""
    stamps = {"patient_contact": "patient_contact_at", "handover": "handed_over_at"}
    if event not in stamps:
        raise errors.invalid(
            "incident.bad_event",
            vi="Sự kiện là patient_contact hoặc handover.",
            en="The event is patient_contact or handover.",
            field="event",
        )
    incident = lock_open_incident(incident.pk)
    if incident.on_scene_at is None:
        raise errors.invalid(
            "incident.not_on_scene",
            vi="Chưa có xe nào đến hiện trường của sự vụ này.",
            en="No unit has reached this incident yet.",
            field="event",
        )
    field = stamps[event]
    if getattr(incident, field) is None:
        setattr(incident, field, clock.now())
        incident.save(update_fields=[field])
        audit(
            f"incident.{event}",
            actor=actor,
            target_type="incident",
            target_id=incident.pk,
            details={"number": incident.number},
        )
    return incident


def cancel_incident(*, incident: Incident, reason: str, actor: str) -> Incident:
    """Cancel (a hoax, a duplicate, the patient went by taxi): every unit on it is stood down."""
    from cityhealth.emergency.services.units import stand_down

    text = reason.strip()[:200]
    if not text:
        raise errors.invalid(
            "incident.reason_required",
            vi="Cần ghi lý do huỷ.",
            en="A reason for the cancellation is required.",
            field="reason",
        )
    incident = lock_open_incident(incident.pk)
    for assignment in incident.assignments.filter(status=AssignmentStatus.ACTIVE).order_by(
        "unit_id"
    ):
        stand_down(assignment=assignment, reason=f"incident cancelled: {text}", actor=actor)
    incident.refresh_from_db()
    incident.status = IncidentStatus.CANCELLED
    incident.cancel_reason = text
    incident.closed_at = clock.now()
    incident.save(update_fields=["status", "cancel_reason", "closed_at"])
    audit(
        "incident.cancelled",
        actor=actor,
        target_type="incident",
        target_id=incident.pk,
        details={"reason": text},
    )
    return incident
