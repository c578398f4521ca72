"""JSON API of the 115 dispatch centre (mounted at /api/emergency). Thin: it checks the
permission, calls a service or selector and shapes the answer.

| endpoint | permission | answers |
|---|---|---|
| `POST /calls` | REPORT_CALLS (the telephone system) or DISPATCH | 201 new, 200 repeated |
| `GET /incidents` | DISPATCH | the open incidents, most urgent first |
| `GET /incidents/{id}` | DISPATCH | 200; 404 |
| `POST /incidents/{id}/answer` | DISPATCH | 200; 409 `incident.closed` |
| `PUT /incidents/{id}/draft` | DISPATCH | 200; 409 `incident.stale_draft` |
| `POST /incidents/{id}/location` | DISPATCH | 200; 400 `location.*` |
| `POST /incidents/{id}/triage` | DISPATCH | 200; 400 `triage.*` (e.g. `triage.needs_answer`) |
| `GET /triage/complaints?q=` | DISPATCH | complaints matching the text typed |
| `POST /triage/step` | DISPATCH | the next question to ask, or the outcome |
| `POST /incidents/{id}/assign` | DISPATCH | 200; 409 `unit.not_available` |
| `POST /incidents/{id}/events` | DISPATCH or REPORT_UNIT_STATUS | 200 |
| `POST /incidents/{id}/cancel` | DISPATCH | 200 |
| `GET /incidents/{id}/recommendations` | DISPATCH | free units by arrival time, with reasons |
| `GET /incidents/{id}/destinations` | DISPATCH or REPORT_UNIT_STATUS | hospitals, best first |
| `POST /incidents/{id}/pre-alerts` | DISPATCH or REPORT_UNIT_STATUS | 201; 400; 409 |
| `GET /units` | DISPATCH | every active unit with its status and position |
| `POST /units/{code}/status` | REPORT_UNIT_STATUS | 200; 409 `unit.illegal_status_change` |
| `POST /units/{code}/positions` | REPORT_UNIT_STATUS | 200 with what was stored and refused |
| `POST /positions` | REPORT_UNIT_STATUS | 200: a gateway's fixes of many units at once |
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_any_permission, ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.emergency import selectors, services, triage
from cityhealth.emergency.hospital_api import PreAlertOut, pre_alert_out
from cityhealth.emergency.models import Incident, Unit
from cityhealth.emergency.recommend import recommend_units
from cityhealth.facilities.selectors import get_facility

router = Router()


class CallIn(Schema):
    call_id: str = Field(..., max_length=64)
    caller_number: str = Field("", max_length=30)
    received_at: dt.datetime | None = None


class IncidentOut(Schema):
    id: int
    number: str
    status: str
    caller_number: str
    call_taker: str
    draft: dict[str, Any]
    version: int
    address: str
    ward: str | None
    latitude: float | None
    longitude: float | None
    location_method: str
    car_reachable: bool | None
    walk_metres: int
    patients: int
    complaint: str
    priority: str
    triage: dict[str, Any]
    possible_duplicate_of: str | None
    cancel_reason: str
    times: dict[str, dt.datetime | None]
    units: list[str]


_TIMES = (
    "received_at", "answered_at", "location_confirmed_at", "triaged_at", "assigned_at",
    "en_route_at", "on_scene_at", "patient_contact_at", "left_scene_at", "at_hospital_at",
    "handed_over_at", "unit_free_at", "closed_at",
)  # fmt: skip


def _incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut(
        id=incident.pk,
        number=incident.number,
        status=incident.status,
        caller_number=incident.caller_number,
        call_taker=incident.call_taker,
        draft=incident.draft,
        version=incident.version,
        address=incident.address,
        ward=incident.ward_id,
        latitude=incident.latitude,
        longitude=incident.longitude,
        location_method=incident.location_method,
        car_reachable=incident.car_reachable,
        walk_metres=incident.walk_metres,
        patients=incident.patients,
        complaint=incident.complaint,
        priority=incident.priority,
        triage=incident.triage,
        possible_duplicate_of=(
            incident.possible_duplicate_of.number if incident.possible_duplicate_of else None
        ),
        cancel_reason=incident.cancel_reason,
        times={name.removesuffix("_at"): getattr(incident, name) for name in _TIMES},
        units=[
            a.unit.code for a in incident.assignments.filter(status="active").select_related("unit")
        ],
    )


class DraftIn(Schema):
    version: int
    fields: dict[str, Any]


class LocationIn(Schema):
    latitude: float
    longitude: float
    method: str = Field(..., max_length=10)
    address: str = Field("", max_length=300)
    ward: str = Field("", max_length=10)
    car_reachable: bool | None = None
    walk_metres: int = 0
    patients: int = 1


class TriageIn(Schema):
    """The protocol's answers (`complaint` + `answers`), or a dispatcher's own `priority`
    where the protocol does not fit (kept with the reason in `outcome`)."""

    complaint: str = Field("", max_length=40)
    answers: dict[str, str] = Field(default_factory=dict)
    priority: str | None = Field(None, max_length=2)
    outcome: dict[str, Any] = Field(default_factory=dict)


class TextOut(Schema):
    vi: str
    en: str


class ComplaintOut(Schema):
    code: str
    name: TextOut


class OptionOut(Schema):
    value: str
    label: TextOut


class QuestionOut(Schema):
    id: str
    text: TextOut
    options: list[OptionOut]


class TriageStepIn(Schema):
    complaint: str = Field(..., max_length=40)
    answers: dict[str, str] = Field(default_factory=dict)


class TriageStepOut(Schema):
    protocol: str
    question: QuestionOut | None  # the next question to ask, or None when decided
    outcome: dict[str, Any] | None  # the outcome once every needed answer is in


class AssignIn(Schema):
    unit: str = Field(..., max_length=30)


class EventIn(Schema):
    event: str = Field(..., max_length=20)


class CancelIn(Schema):
    reason: str = Field(..., max_length=200)


class UnitOut(Schema):
    code: str
    call_sign: str
    kind: str
    operator: str
    status: str
    status_since: dt.datetime
    incident: str | None
    latitude: float | None
    longitude: float | None
    position_at: dt.datetime | None


def _unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        call_sign=unit.call_sign,
        kind=unit.kind,
        operator=unit.operator,
        status=unit.status,
        status_since=unit.status_since,
        incident=unit.incident.number if unit.incident else None,
        latitude=unit.latitude,
        longitude=unit.longitude,
        position_at=unit.position_at,
    )


class StatusIn(Schema):
    status: str = Field(..., max_length=20)


class PositionIn(Schema):
    latitude: float
    longitude: float
    at: dt.datetime
    speed_kmh: float | None = None
    heading: float | None = None


class PositionsIn(Schema):
    positions: list[PositionIn] = Field(..., max_length=1000)


class PositionsOut(Schema):
    stored: int
    latest_moved: bool
    rejected: list[str]


# --- calls and incidents -------------------------------------------------------------------


@router.post("/calls", response={200: IncidentOut, 201: IncidentOut}, summary="A call rings")
def report_call(request: HttpRequest, payload: CallIn) -> Status[IncidentOut]:
    principal = api_principal(request)
    ensure_any_permission(principal, Permission.REPORT_CALLS, Permission.DISPATCH)
    received = services.receive_call(
        call_id=payload.call_id,
        caller_number=payload.caller_number,
        received_at=payload.received_at,
        actor=actor_of(principal),
    )
    return Status(201 if received.created else 200, _incident_out(received.incident))


@router.get("/incidents", response=list[IncidentOut], summary="The dispatch queue")
def list_incidents(request: HttpRequest) -> list[IncidentOut]:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    return [_incident_out(i) for i in selectors.open_incidents()[:200]]


@router.get("/incidents/{incident_id}", response=IncidentOut, summary="One incident")
def get_incident(request: HttpRequest, incident_id: int) -> IncidentOut:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    return _incident_out(selectors.get_incident(incident_id))


def _dispatcher_and_incident(request: HttpRequest, incident_id: int) -> tuple[str, Incident]:
    principal = api_principal(request)
    ensure_permission(principal, Permission.DISPATCH)
    return actor_of(principal), selectors.get_incident(incident_id)


@router.post("/incidents/{incident_id}/answer", response=IncidentOut, summary="Answer a call")
def answer_call(request: HttpRequest, incident_id: int) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    return _incident_out(services.answer_call(incident=incident, actor=actor))


@router.put("/incidents/{incident_id}/draft", response=IncidentOut, summary="Save as typed")
def save_draft(request: HttpRequest, incident_id: int, payload: DraftIn) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    saved = services.save_call_draft(
        incident=incident, fields=payload.fields, version=payload.version, actor=actor
    )
    return _incident_out(saved)


@router.post("/incidents/{incident_id}/location", response=IncidentOut, summary="Locate")
def confirm_location(request: HttpRequest, incident_id: int, payload: LocationIn) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    located = services.confirm_location(
        incident=incident,
        latitude=payload.latitude,
        longitude=payload.longitude,
        method=payload.method,
        address=payload.address,
        ward_code=payload.ward,
        car_reachable=payload.car_reachable,
        walk_metres=payload.walk_metres,
        patients=payload.patients,
        actor=actor,
    )
    return _incident_out(located)


@router.post("/incidents/{incident_id}/triage", response=IncidentOut, summary="Triage")
def triage_incident(request: HttpRequest, incident_id: int, payload: TriageIn) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    if payload.priority is not None:
        triaged = services.record_triage(
            incident=incident,
            priority=payload.priority,
            complaint=payload.complaint,
            outcome={"override": True, **payload.outcome},
            actor=actor,
        )
    else:
        triaged = services.triage_incident(
            incident=incident,
            complaint_code=payload.complaint,
            answers=payload.answers,
            actor=actor,
        )
    return _incident_out(triaged)


@router.post("/incidents/{incident_id}/assign", response=IncidentOut, summary="Send a unit")
def assign_unit(request: HttpRequest, incident_id: int, payload: AssignIn) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    services.assign_unit(incident=incident, unit=selectors.get_unit(payload.unit), actor=actor)
    return _incident_out(selectors.get_incident(incident_id))


@router.post("/incidents/{incident_id}/events", response=IncidentOut, summary="Mark a moment")
def record_event(request: HttpRequest, incident_id: int, payload: EventIn) -> IncidentOut:
    principal = api_principal(request)
    ensure_any_permission(principal, Permission.DISPATCH, Permission.REPORT_UNIT_STATUS)
    incident = selectors.get_incident(incident_id)
    updated = services.record_incident_event(
        incident=incident, event=payload.event, actor=actor_of(principal)
    )
    return _incident_out(updated)


@router.post("/incidents/{incident_id}/cancel", response=IncidentOut, summary="Cancel")
def cancel_incident(request: HttpRequest, incident_id: int, payload: CancelIn) -> IncidentOut:
    actor, incident = _dispatcher_and_incident(request, incident_id)
    return _incident_out(
        services.cancel_incident(incident=incident, reason=payload.reason, actor=actor)
    )


class RecommendationOut(Schema):
    unit: str
    kind: str
    eta_seconds: float
    metres: float
    method: str
    capable: bool
    role: str
    reasons: list[str]


@router.get(
    "/incidents/{incident_id}/recommendations",
    response=list[RecommendationOut],
    summary="The fastest right units, with why",
)
def recommendations(request: HttpRequest, incident_id: int) -> list[RecommendationOut]:
    _actor, incident = _dispatcher_and_incident(request, incident_id)
    return [
        RecommendationOut(
            unit=r.unit.code,
            kind=r.unit.kind,
            eta_seconds=round(r.eta_seconds, 1),
            metres=round(r.metres),
            method=r.method,
            capable=r.capable,
            role=r.role,
            reasons=list(r.reasons),
        )
        for r in recommend_units(incident=incident)
    ]


# --- triage protocol -----------------------------------------------------------------------


@router.get("/triage/complaints", response=list[ComplaintOut], summary="Find a complaint")
def find_complaints(request: HttpRequest, q: str = "") -> list[ComplaintOut]:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    protocol = triage.current_protocol()
    found = (
        triage.search_complaints(protocol, text=q[:100], limit=10)
        if q.strip()
        else protocol.complaints
    )
    return [ComplaintOut(code=c.code, name=TextOut(vi=c.name.vi, en=c.name.en)) for c in found]


@router.post("/triage/step", response=TriageStepOut, summary="The next question, or the outcome")
def triage_step(request: HttpRequest, payload: TriageStepIn) -> TriageStepOut:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    protocol = triage.current_protocol()
    question = triage.next_question(
        protocol, complaint_code=payload.complaint, answers=payload.answers
    )
    if question is not None:
        return TriageStepOut(
            protocol=protocol.version,
            question=QuestionOut(
                id=question.id,
                text=TextOut(vi=question.text.vi, en=question.text.en),
                options=[
                    OptionOut(value=o.value, label=TextOut(vi=o.label.vi, en=o.label.en))
                    for o in question.options
                ],
            ),
            outcome=None,
        )
    outcome = triage.evaluate(protocol, complaint_code=payload.complaint, answers=payload.answers)
    return TriageStepOut(protocol=protocol.version, question=None, outcome=outcome.as_record())


# --- units ---------------------------------------------------------------------------------


@router.get("/units", response=list[UnitOut], summary="Units, their status and position")
def list_units(request: HttpRequest) -> list[UnitOut]:
    ensure_permission(api_principal(request), Permission.DISPATCH)
    return [_unit_out(u) for u in selectors.list_units()]


@router.post("/units/{code}/status", response=UnitOut, summary="A unit's new status")
def report_status(request: HttpRequest, code: str, payload: StatusIn) -> UnitOut:
    principal = api_principal(request)
    ensure_permission(principal, Permission.REPORT_UNIT_STATUS)
    unit = services.record_unit_status(
        unit=selectors.get_unit(code), status=payload.status, actor=actor_of(principal)
    )
    return _unit_out(selectors.get_unit(unit.code))


def _position_report(p: PositionIn) -> services.PositionReport:
    return services.PositionReport(
        latitude=p.latitude,
        longitude=p.longitude,
        at=p.at,
        speed_kmh=p.speed_kmh,
        heading=p.heading,
    )


@router.post("/units/{code}/positions", response=PositionsOut, summary="Positions (AVL)")
def report_positions(request: HttpRequest, code: str, payload: PositionsIn) -> PositionsOut:
    ensure_permission(api_principal(request), Permission.REPORT_UNIT_STATUS)
    # The busiest endpoint (every device, every few seconds): the service reads the unit's id
    # only, not the unit with its incident as `selectors.get_unit` does.
    recorded = services.units.record_unit_positions(
        code=code,
        reports=[_position_report(p) for p in payload.positions],
    )
    return PositionsOut(
        stored=recorded.stored, latest_moved=recorded.latest_moved, rejected=recorded.rejected
    )


class FleetPositionIn(PositionIn):
    unit: str = Field(..., max_length=30)


class FleetPositionsIn(Schema):
    positions: list[FleetPositionIn] = Field(..., max_length=1000)


class FleetPositionsOut(Schema):
    stored: int
    moved: list[str]
    rejected: list[str]
    unknown_units: list[str]


@router.post("/positions", response=FleetPositionsOut, summary="Positions of many units (AVL)")
def report_fleet_positions(request: HttpRequest, payload: FleetPositionsIn) -> FleetPositionsOut:
    """For a fleet's telematics gateway: the latest fix of each of its units in one request."""
    ensure_permission(api_principal(request), Permission.REPORT_UNIT_STATUS)
    recorded = services.units.record_fleet_positions(
        reports=[(p.unit, _position_report(p)) for p in payload.positions]
    )
    return FleetPositionsOut(
        stored=recorded.stored,
        moved=recorded.moved,
        rejected=recorded.rejected,
        unknown_units=recorded.unknown_units,
    )


# --- destination hospital and pre-alert ----------------------------------------------------


class DestinationOut(Schema):
    facility: str
    name: str
    eta_seconds: float
    metres: float
    method: str
    capability: str
    capable: bool
    beds_free: int | None
    on_diversion: bool
    reasons: list[str]
    notes: list[str]


@router.get(
    "/incidents/{incident_id}/destinations",
    response=list[DestinationOut],
    summary="The hospitals to take the patient to, best first, with why",
)
def destinations(
    request: HttpRequest, incident_id: int, unit: str = "", age: int | None = None
) -> list[DestinationOut]:
    principal = api_principal(request)
    ensure_any_permission(principal, Permission.DISPATCH, Permission.REPORT_UNIT_STATUS)
    options = services.choose_destination(
        incident=selectors.get_incident(incident_id),
        unit=selectors.get_unit(unit[:30]) if unit else None,
        patient_age=age,
    )
    return [
        DestinationOut(
            facility=o.facility.code,
            name=o.facility.name,
            eta_seconds=round(o.eta_seconds, 1),
            metres=round(o.metres),
            method=o.method,
            capability=o.capability,
            capable=o.capable,
            beds_free=o.beds_free,
            on_diversion=o.on_diversion,
            reasons=list(o.reasons),
            notes=list(o.notes),
        )
        for o in options
    ]


class PreAlertIn(Schema):
    unit: str = Field(..., max_length=30)
    facility: str = Field(..., max_length=20)


@router.post(
    "/incidents/{incident_id}/pre-alerts",
    response={201: PreAlertOut},
    summary="Tell the hospital the patient is coming",
)
def send_pre_alert(
    request: HttpRequest, incident_id: int, payload: PreAlertIn
) -> Status[PreAlertOut]:
    principal = api_principal(request)
    ensure_any_permission(principal, Permission.DISPATCH, Permission.REPORT_UNIT_STATUS)
    alert = services.send_pre_alert(
        incident=selectors.get_incident(incident_id),
        unit=selectors.get_unit(payload.unit),
        facility=get_facility(payload.facility),
        actor=actor_of(principal),
    )
    return Status(201, pre_alert_out(alert))
