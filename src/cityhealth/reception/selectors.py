"""Reads of reception: a ticket's live state (for the resident's phone), a room's queue (for
the member of staff calling), and a display board's rows (names masked)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max, Q

from cityhealth.accounts.selectors import acts_at, facilities_acted_for
from cityhealth.core.access import ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.facilities.enums import DepartmentKind, FacilityKind
from cityhealth.facilities.models import Department, Facility, ServicePoint
from cityhealth.people.selectors import mask_name
from cityhealth.reception import errors
from cityhealth.reception.enums import OPEN_STATES, EntryState, VisitStatus
from cityhealth.reception.models import QueueEntry, Visit
from cityhealth.reception.waits import ahead_of, estimate_wait

QUEUE_KINDS = (
    DepartmentKind.CLINIC, DepartmentKind.LAB, DepartmentKind.IMAGING,
    DepartmentKind.DIAGNOSTICS, DepartmentKind.PHARMACY, DepartmentKind.CASHIER,
    DepartmentKind.VACCINATION,
)  # fmt: skip
HOSPITAL_KINDS = (
    FacilityKind.GENERAL_HOSPITAL, FacilityKind.SPECIALIST_HOSPITAL,
    FacilityKind.CENTRAL_HOSPITAL,
)  # fmt: skip


@dataclass(frozen=True)
class TicketState:
    ticket: str
    facility: str
    state: str  # the current entry's EntryState, or the visit's end
    queue: str  # where to be: the department's name
    room: str  # the room or counter, when known
    floor: int | None
    ahead: int
    wait_minutes: int
    priority_groups: list[str]
    finished: bool


def ticket_by_token(token: str) -> TicketState:
    """The live state of a ticket, for whoever holds its link (the printed QR): no name."""
    visit = Visit.objects.select_related("facility").filter(token=token[:32]).first()
    if visit is None:
        raise errors.visit_not_found()
    entry = visit.entries.select_related("department", "service_point").order_by("-step").first()
    assert entry is not None  # every visit is made with its first entry
    point = entry.service_point
    return TicketState(
        ticket=visit.ticket,
        facility=visit.facility.name,
        state=entry.state,
        queue=entry.department.name,
        room=point.name if point else "",
        floor=point.floor if point else None,
        ahead=ahead_of(entry),
        wait_minutes=estimate_wait(entry),
        priority_groups=list(visit.priority_groups),
        finished=visit.status != VisitStatus.OPEN,
    )


@dataclass(frozen=True)
class BoardRow:
    ticket: str
    name: str  # masked: "Nguyễn V. An"
    room: str
    floor: int | None
    state: str  # called or waiting
    announced_at: str  # ISO instant of the last call (a board re-announces a recall)
    priority: int


def board_rows(
    *, facility: Facility, department_codes: list[str], limit: int = 40
) -> list[BoardRow]:
    """What a hall's board shows: tickets called (newest call first), then those waiting in
    the order they will be called."""
    entries = (
        QueueEntry.objects.filter(
            facility=facility, department__code__in=department_codes, state__in=OPEN_STATES
        )
        .select_related("visit__person", "service_point")
        .order_by("-priority", "entered_at", "id")[:500]
    )
    called = sorted(
        (e for e in entries if e.state == EntryState.CALLED),
        key=lambda e: e.announced_at or e.entered_at,
        reverse=True,
    )
    waiting = [e for e in entries if e.state == EntryState.WAITING]
    return [_row(e) for e in (called + waiting)[:limit]]


def _row(entry: QueueEntry) -> BoardRow:
    point = entry.service_point
    return BoardRow(
        ticket=entry.visit.ticket,
        name=mask_name(entry.visit.person.full_name),
        room=point.name if point else "",
        floor=point.floor if point else None,
        state=entry.state,
        announced_at=entry.announced_at.isoformat() if entry.announced_at else "",
        priority=entry.priority,
    )


def board_version(*, facility: Facility, department_codes: list[str]) -> str:
    """Changes whenever what the board shows may have changed (an entry added, called,
    ended): the stream sends the board again only then."""
    latest = QueueEntry.objects.filter(
        facility=facility, department__code__in=department_codes
    ).aggregate(
        entered=Max("entered_at"), announced=Max("announced_at"), ended=Max("ended_at"),
        last=Max("id"),
    )  # fmt: skip
    return "|".join(str(latest[key]) for key in ("last", "entered", "announced", "ended"))


def point_queue(
    *, principal: object, service_point_id: int
) -> tuple[ServicePoint, list[QueueEntry]]:
    """A room's or counter's patients: the one called now and those waiting for it."""
    ensure_permission(principal, Permission.CALL_PATIENTS)
    point = (
        ServicePoint.objects.select_related("department__facility")
        .filter(pk=service_point_id)
        .first()
    )
    if point is None or not acts_at(principal, point.department.facility_id):
        raise errors.queue_not_found()
    entries = list(
        QueueEntry.objects.filter(department_id=point.department_id, state__in=OPEN_STATES)
        .filter(Q(service_point_id=point.pk) | Q(service_point__isnull=True))
        .select_related("visit__person")
        .order_by("-priority", "entered_at", "id")[:200]
    )
    return point, entries


def loaded_entry(entry_id: int) -> QueueEntry:
    """An entry with what an answer shows of it (the visit's person, queue and room)."""
    return QueueEntry.objects.select_related("visit__person", "department", "service_point").get(
        pk=entry_id
    )


def area_departments(*, facility: Facility, area: str) -> list[str]:
    """The departments a board's area shows: a kind ("clinic": every clinic, "lab", …) or one
    department's code."""
    found = Department.objects.filter(facility=facility)
    if area in DepartmentKind.values:
        found = found.filter(kind=area)
    else:
        found = found.filter(code=area[:30])
    codes = list(found.values_list("code", flat=True))
    if not codes:
        raise errors.queue_not_found()
    return codes


def departments_of(*, facility_id: int) -> list[Department]:
    """Where a patient may be sent next: the facility's departments that keep a queue."""
    return list(
        Department.objects.filter(facility_id=facility_id, kind__in=QUEUE_KINDS).order_by(
            "position", "code"
        )
    )


def facilities_of(*, principal: object) -> list[Facility]:
    """The hospitals where the caller checks patients in (city-wide staff: all of them)."""
    hospitals = Facility.objects.filter(is_active=True, kind__in=HOSPITAL_KINDS).order_by("code")
    scope = facilities_acted_for(principal)
    return list(hospitals if scope is None else hospitals.filter(pk__in=scope))
