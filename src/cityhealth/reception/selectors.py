"""Reads of reception: a ticket's live state (for the resident's phone), a room's queue (for
the member of staff calling), a display board's rows (names masked), and the desk's reads (a
guardian's children, a visit with its entries and corrections)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Max, Q

from cityhealth.accounts.selectors import actor_label_of, actor_of, acts_at, facilities_acted_for
from cityhealth.core.access import ensure_permission
from cityhealth.core.audit import record_audit
from cityhealth.core.roles import Permission
from cityhealth.facilities.enums import DepartmentKind, FacilityKind
from cityhealth.facilities.models import Department, Facility, ServicePoint
from cityhealth.people.enums import IdentifierKind
from cityhealth.people.errors import person_not_found
from cityhealth.people.models import Person
from cityhealth.people.selectors import MAX_ID, holders_of, mask_name, survivor_of
from cityhealth.reception import errors
from cityhealth.reception.clinics import suits
from cityhealth.reception.directory import active_facility, clinics_of
from cityhealth.reception.enums import OPEN_STATES, EntryState, VisitStatus
from cityhealth.reception.models import QueueEntry, Visit, VisitCorrection
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


# --- the desk ----------------------------------------------------------------------------------


def children_of(
    *, principal: object, guardian: Person, facility_code: str = "", source_ip: str = ""
) -> list[Person]:
    """The persons the registry links to `guardian` (their children or wards), youngest
    first, for the desk to pick the one brought in; records merged away and deceased persons
    are left out. Audited as a search naming the persons shown."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    children = list(
        Person.objects.filter(
            guardians__guardian=guardian, merged_into__isnull=True, deceased=False
        ).order_by(
            F("birth_date").desc(nulls_last=True), F("birth_year").desc(nulls_last=True), "id"
        )
    )
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.search",
        target_type="person",
        facility_code=facility_code,
        source_ip=source_ip,
        details={
            "via": "guardian",
            "guardian_id": guardian.pk,
            "result_ids": [child.pk for child in children],
        },
    )
    return children


def person_by_number(
    *, principal: object, person_id: int, facility_code: str = "", source_ip: str = ""
) -> Person:
    """The person with this registry number (the survivor, if it was merged), for the desk;
    audited as a read."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    found = Person.objects.filter(pk=person_id).first() if 0 < person_id <= MAX_ID else None
    if found is None:
        raise person_not_found()
    person = survivor_of(found)
    _audit_read(principal, person, "registry_number", facility_code, source_ip)
    return person


def person_by_passport(
    *, principal: object, number: str, issuer: str, facility_code: str = "", source_ip: str = ""
) -> Person | None:
    """The holder of a passport (its number and issuing country), now or before; None if the
    registry has nobody with it. Audited as a read when found."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    holders = holders_of(IdentifierKind.PASSPORT, number, issuer=issuer)
    if not holders:
        return None
    person = holders[0][0]
    _audit_read(principal, person, "passport", facility_code, source_ip)
    return person


def _audit_read(
    principal: object, person: Person, via: str, facility_code: str, source_ip: str
) -> None:
    record_audit(
        actor=actor_of(principal), actor_label=actor_label_of(principal), action="person.read",
        target_type="person", target_id=person.pk, facility_code=facility_code,
        reason="reception desk", source_ip=source_ip, details={"via": via},
    )  # fmt: skip


@dataclass(frozen=True)
class DeskVisit:
    """A visit as the desk corrects it: the visit (with its person, guardian and hospital),
    its queue entries in order, its corrections (oldest first), and the clinics its person
    could be moved to."""

    visit: Visit
    entries: list[QueueEntry]
    corrections: list[VisitCorrection]
    clinics: list[Department]


def desk_visit(*, principal: object, visit_id: int) -> DeskVisit:
    """One visit for the desk of its hospital; a visit of another hospital answers as one that
    does not exist."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    visit = (
        Visit.objects.select_related("facility", "person", "guardian").filter(pk=visit_id).first()
        if 0 < visit_id <= MAX_ID
        else None
    )
    if visit is None or not acts_at(principal, visit.facility_id):
        raise errors.visit_not_found()
    entries = list(
        visit.entries.select_related("department", "service_point").order_by("step", "id")
    )
    corrections = list(visit.corrections.order_by("at", "id"))
    clinics = [c for c in clinics_of(visit.facility) if suits(c, visit.person, visit.day)]
    return DeskVisit(visit, entries, corrections, clinics)


def visit_by_ticket(*, principal: object, facility_code: str, ticket: str, day: dt.date) -> Visit:
    """The visit with this ticket ("A001", "u 12") at the hospital on `day`."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    text = "".join(ticket.split()).upper()
    prefix, digits = text[:1], text[1:]
    facility = active_facility(facility_code)
    if facility is None or not acts_at(principal, facility.pk) or not digits.isdigit():
        raise errors.visit_not_found()
    visit = Visit.objects.filter(
        facility=facility, day=day, prefix=prefix, number=int(digits[:9])
    ).first()
    if visit is None:
        raise errors.visit_not_found()
    return visit
