"""JSON API of reception (mounted at /api/reception). Thin: each endpoint calls one service or
selector and shapes the answer.

| endpoint | permission | answers |
|---|---|---|
| `POST /check-ins` | CHECK_IN | 201 a new visit; 200 the person's open visit again |
| `GET /points/{id}/queue` | CALL_PATIENTS | the room's or counter's patients |
| `POST /points/{id}/call-next` | CALL_PATIENTS | the patient called; 409 `reception.queue_empty` |
| `POST /entries/{id}/recall` | CALL_PATIENTS | 200; 409 `reception.entry_moved_on` |
| `POST /entries/{id}/no-show` | CALL_PATIENTS | 200; 409 |
| `POST /entries/{id}/send` | CALL_PATIENTS | the new entry in the next queue |
| `POST /entries/{id}/finish` | CALL_PATIENTS | the visit, ended |
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Field, Router, Schema, Status

from cityhealth.core.access import api_principal
from cityhealth.insurance.types import EligibilityResult
from cityhealth.reception import selectors, services
from cityhealth.reception.enums import Channel
from cityhealth.reception.models import QueueEntry, Visit

router = Router()


class CheckInIn(Schema):
    facility: str = Field(..., max_length=20)
    clinic: str = Field(..., max_length=30)
    qr: str = Field("", max_length=500)
    citizen_id: str = Field("", max_length=20)
    priority_groups: list[str] = Field(default_factory=list, max_length=6)


class InsuranceOut(Schema):
    status: str
    code: str
    message: str  # plain words for the resident
    staff_message: str
    card_code: str
    valid_to: dt.date | None
    reused: bool


class TicketOut(Schema):
    number: str
    token: str
    clinic: str
    room: str
    floor: int | None
    priority_groups: list[str]


class CheckInOut(Schema):
    visit: int
    ticket: TicketOut
    insurance: InsuranceOut | None
    wait_minutes: int
    again: bool


class EntryOut(Schema):
    id: int
    visit: int
    ticket: str
    name: str
    queue: str
    room: str
    state: str
    priority: int
    calls: int


class SendIn(Schema):
    department: str = Field(..., max_length=30)


class VisitOut(Schema):
    id: int
    ticket: str
    status: str


def _insurance(result: EligibilityResult | None) -> InsuranceOut | None:
    if result is None:
        return None
    language = get_language()
    return InsuranceOut(
        status=result.status,
        code=result.code,
        message=result.for_resident(language),
        staff_message=result.for_staff(language),
        card_code=result.card_code,
        valid_to=result.valid_to,
        reused=result.reused,
    )


def check_in_out(done: services.CheckIn) -> CheckInOut:
    point = done.entry.service_point
    return CheckInOut(
        visit=done.visit.pk,
        ticket=TicketOut(
            number=done.visit.ticket,
            token=done.visit.token,
            clinic=done.entry.department.name,
            room=point.name if point else "",
            floor=point.floor if point else None,
            priority_groups=list(done.visit.priority_groups),
        ),
        insurance=_insurance(done.eligibility),
        wait_minutes=done.wait_minutes,
        again=done.again,
    )


def _entry_out(entry: QueueEntry) -> EntryOut:
    point = entry.service_point
    return EntryOut(
        id=entry.pk,
        visit=entry.visit_id,
        ticket=entry.visit.ticket,
        name=entry.visit.person.full_name,
        queue=entry.department.name,
        room=point.name if point else "",
        state=entry.state,
        priority=entry.priority,
        calls=entry.calls,
    )


@router.post("/check-ins", response={200: CheckInOut, 201: CheckInOut})
def check_in(request: HttpRequest, payload: CheckInIn) -> Status[CheckInOut]:
    done = services.check_in_with_cccd(
        principal=api_principal(request),
        facility_code=payload.facility,
        clinic_code=payload.clinic,
        qr=payload.qr,
        citizen_id=payload.citizen_id,
        channel=Channel.API,
        declared_groups=payload.priority_groups,
        source_ip=request.META.get("REMOTE_ADDR", ""),
    )
    return Status(200 if done.again else 201, check_in_out(done))


@router.get("/points/{point_id}/queue", response=list[EntryOut])
def point_queue(request: HttpRequest, point_id: int) -> list[EntryOut]:
    _, entries = selectors.point_queue(principal=api_principal(request), service_point_id=point_id)
    return [_entry_out(entry) for entry in entries]


@router.post("/points/{point_id}/call-next", response=EntryOut)
def call_next(request: HttpRequest, point_id: int) -> EntryOut:
    entry = services.call_next(principal=api_principal(request), service_point_id=point_id)
    return _entry_out(selectors.loaded_entry(entry.pk))


@router.post("/entries/{entry_id}/recall", response=EntryOut)
def recall(request: HttpRequest, entry_id: int) -> EntryOut:
    entry = services.recall(principal=api_principal(request), entry_id=entry_id)
    return _entry_out(selectors.loaded_entry(entry.pk))


@router.post("/entries/{entry_id}/no-show", response=EntryOut)
def no_show(request: HttpRequest, entry_id: int) -> EntryOut:
    entry = services.mark_no_show(principal=api_principal(request), entry_id=entry_id)
    return _entry_out(selectors.loaded_entry(entry.pk))


@router.post("/entries/{entry_id}/send", response=EntryOut)
def send(request: HttpRequest, entry_id: int, payload: SendIn) -> EntryOut:
    entry = services.send_to(
        principal=api_principal(request), entry_id=entry_id, department_code=payload.department
    )
    return _entry_out(selectors.loaded_entry(entry.pk))


@router.post("/entries/{entry_id}/finish", response=VisitOut)
def finish(request: HttpRequest, entry_id: int) -> VisitOut:
    visit: Visit = services.finish_visit(principal=api_principal(request), entry_id=entry_id)
    return VisitOut(id=visit.pk, ticket=visit.ticket, status=visit.status)
