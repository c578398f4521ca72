"""Corrections of a visit at the desk: another clinic, other declared priority groups, a
visit opened by mistake cancelled, the visit moved to the right person. Each needs the
RECEPTION_DESK permission at the visit's hospital and a reason, and leaves a row in the
visit's append-only correction log (what it was, what it became, why, who, when).

Rows are locked in one order, the visit first, then its entries by id (as `queues.send_to`
locks the visit before its entry), so a correction and a room's action never wait on each
other in a circle. A visit of another hospital answers as one that does not exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from cityhealth.accounts.selectors import actor_of, acts_at
from cityhealth.core import clock
from cityhealth.core.access import ensure_permission
from cityhealth.core.roles import Permission
from cityhealth.facilities.models import Facility
from cityhealth.people.models import Guardianship, Person
from cityhealth.people.selectors import MAX_ID
from cityhealth.reception import encounters, errors, selectors
from cityhealth.reception.clinics import check_declared, priority_groups, priority_of, suits
from cityhealth.reception.directory import clinic_by_code
from cityhealth.reception.enums import (
    DECLARED_GROUPS,
    OPEN_STATES,
    EntryState,
    IdentifiedBy,
    VisitStatus,
)
from cityhealth.reception.models import QueueEntry, Visit, VisitCorrection
from cityhealth.reception.services.check_in import identify, read_scan
from cityhealth.reception.services.claims import checkin_record
from cityhealth.reception.services.queues import close_stale_visit, least_busy_room

Kind = VisitCorrection.Kind
_SERVED = (EntryState.CALLED, EntryState.DONE)


def change_clinic(
    *, principal: object, visit_id: int, clinic_code: str, reason: str
) -> VisitCorrection:
    """Send a patient still waiting in their first clinic's queue to another clinic (its
    least busy room). The ticket stays, and so does the time of arrival: the patient keeps
    their place in the order of arrival, the desk's mistake is not theirs to pay for."""
    why = _reason(reason)
    with transaction.atomic():
        visit, entries = _locked(principal, visit_id)
        if len(entries) != 1 or entries[0].state != EntryState.WAITING:
            raise errors.not_in_first_clinic()
        entry = entries[0]
        clinic = clinic_by_code(visit.facility, clinic_code)
        if clinic.pk == entry.department_id:
            raise errors.same_queue()
        if not suits(clinic, visit.person, visit.day):
            raise errors.clinic_unsuited(clinic.name)
        room = least_busy_room(clinic)
        before = _place(entry)
        entry.department, entry.service_point = clinic, room
        entry.save(update_fields=["department", "service_point"])
        encounters.after_commit(visit.pk)
        return _log(principal, visit, Kind.CLINIC, before, _place(entry), why)


def change_priority_groups(
    *, principal: object, visit_id: int, declared_groups: Iterable[str], reason: str
) -> VisitCorrection:
    """Replace the groups the desk declared (emergency, pregnant, disability, merit); the
    age groups stay, as the date of birth gives them. The waiting entries move to their new
    place in their queues.

    The ticket's prefix letter stays as printed: the resident holds the paper and the boards
    announce it, and a new number would leave the printed one pointing nowhere. What orders
    a queue is the entries' priority, and that changes now."""
    why = _reason(reason)
    declared = check_declared(declared_groups)  # refused before any lock
    with transaction.atomic():
        visit, entries = _locked(principal, visit_id)
        groups = _groups(visit.person, visit, declared)
        if set(groups) == set(visit.priority_groups):
            raise errors.nothing_to_change()
        before = _priority(visit)
        _reprioritise(visit, entries, groups)
        visit.save(update_fields=["priority_groups", "priority"])
        encounters.after_commit(visit.pk)
        return _log(principal, visit, Kind.PRIORITY, before, _priority(visit), why)


def cancel_visit(*, principal: object, visit_id: int, reason: str) -> VisitCorrection:
    """Cancel a visit opened by mistake, while nobody has called or served the patient yet:
    the visit and its open entries end as cancelled (and so does its Encounter)."""
    why = _reason(reason)
    with transaction.atomic():
        visit, entries = _locked(principal, visit_id)
        _ensure_nothing_served(entries)
        now = clock.now()
        before = {"status": visit.status, "entries": {str(e.pk): e.state for e in entries}}
        QueueEntry.objects.filter(pk__in=[e.pk for e in entries if e.state in OPEN_STATES]).update(
            state=EntryState.CANCELLED, ended_at=now
        )
        visit.status, visit.ended_at = VisitStatus.CANCELLED, now
        visit.save(update_fields=["status", "ended_at"])
        encounters.after_commit(visit.pk)
        return _log(principal, visit, Kind.CANCEL, before, {"status": visit.status}, why)


def change_person(
    *,
    principal: object,
    visit_id: int,
    reason: str,
    scan: str = "",
    person_id: int | None = None,
    source_ip: str = "",
) -> VisitCorrection:
    """The desk picked the wrong person: move the visit, while nobody has called or served
    the patient yet, to the right one (the card scanned or typed, or a registry number).
    The old person's insurance result does not travel with it: the eligibility check is
    dropped and the XML0 record is made again for the new person without card fields.

    The right person must not have another visit open at the hospital, and must suit the
    clinic the ticket waits for (else the visit is cancelled and the person checked in)."""
    why = _reason(reason)
    facility = _visible(principal, visit_id).facility
    person, how, number = _right_person(principal, facility, scan, person_id, source_ip)
    if person.deceased:
        raise errors.deceased()
    with transaction.atomic():
        visit, entries = _locked(principal, visit_id)
        _ensure_nothing_served(entries)
        if person.pk == visit.person_id:
            raise errors.nothing_to_change()
        _ensure_no_other_visit(visit, person)
        for entry in entries:
            if entry.state == EntryState.WAITING and not suits(entry.department, person, visit.day):
                raise errors.person_unsuited_clinic(entry.department.name)
        before = _identity(visit)
        guardian = visit.guardian if how is None else None
        if how is None and not _is_ward(person, visit.guardian_id):
            how, number, guardian = IdentifiedBy.UNIDENTIFIED, "", None
        declared = [g for g in visit.priority_groups if g in DECLARED_GROUPS]
        visit.person, visit.guardian = person, guardian
        if how is not None:
            visit.identified_by, visit.document_number = how, number[:20]
        visit.eligibility_check_id = None
        _reprioritise(visit, entries, _groups(person, visit, declared))
        visit.claim_checkin = checkin_record(visit, person, None)
        try:
            with transaction.atomic():
                visit.save(
                    update_fields=[
                        "person", "guardian", "identified_by", "document_number",
                        "eligibility_check_id", "priority_groups", "priority", "claim_checkin",
                    ]
                )  # fmt: skip
        except IntegrityError:
            # The person's visit was opened a moment ago (the one-open-visit constraint).
            _ensure_no_other_visit(visit, person)
            raise
        encounters.after_commit(visit.pk)
        return _log(principal, visit, Kind.PERSON, before, _identity(visit), why)


# --- finding and locking -----------------------------------------------------------------------


def _visible(principal: object, visit_id: int) -> Visit:
    ensure_permission(principal, Permission.RECEPTION_DESK)
    found = (
        Visit.objects.select_related("facility").filter(pk=visit_id).first()
        if 0 < visit_id <= MAX_ID
        else None
    )
    if found is None or not acts_at(principal, found.facility_id):
        raise errors.visit_not_found()
    return found


def _locked(principal: object, visit_id: int) -> tuple[Visit, list[QueueEntry]]:
    """The open visit, then its entries by id, locked to the end of the transaction."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("facility", "person", "guardian")
        .filter(pk=visit_id)
        .first()
        if 0 < visit_id <= MAX_ID
        else None
    )
    if visit is None or not acts_at(principal, visit.facility_id):
        raise errors.visit_not_found()
    if visit.status != VisitStatus.OPEN:
        raise errors.visit_closed()
    entries = list(
        QueueEntry.objects.select_for_update(of=("self",))
        .select_related("department", "service_point")
        .filter(visit=visit)
        .order_by("id")
    )
    return visit, entries


def _right_person(
    principal: object, facility: Facility, scan: str, person_id: int | None, source_ip: str
) -> tuple[Person, IdentifiedBy | None, str]:
    """(person, how identified, document number); `how` is None for a registry number, which
    names the person but is no document."""
    qr, typed = read_scan(scan)
    if qr or typed:
        found = identify(
            principal=principal, facility_code=facility.code, qr=qr,
            citizen_id=typed.replace(" ", ""), source_ip=source_ip, insured=False,
        )  # fmt: skip
        return found.person, found.identified_by, found.document_number
    if person_id is not None:
        person = selectors.person_by_number(
            principal=principal, person_id=person_id, facility_code=facility.code,
            source_ip=source_ip,
        )  # fmt: skip
        return person, None, ""
    raise errors.person_required()


# --- the rules -------------------------------------------------------------------------------


def _reason(text: str) -> str:
    reason = " ".join(text.split())[:300]
    if not reason:
        raise errors.reason_required()
    return reason


def _ensure_nothing_served(entries: list[QueueEntry]) -> None:
    if any(entry.state in _SERVED for entry in entries):
        raise errors.already_served()


def _ensure_no_other_visit(visit: Visit, person: Person) -> None:
    other = (
        Visit.objects.filter(facility_id=visit.facility_id, person=person, status=VisitStatus.OPEN)
        .exclude(pk=visit.pk)
        .first()
    )
    if other is None:
        return
    if other.day < visit.day:  # left open on an earlier day: that day is over
        close_stale_visit(visit=other)
        return
    raise errors.person_has_open_visit(other.ticket)


def _is_ward(person: Person, guardian_id: int | None) -> bool:
    """Whether the right person is another child of the guardian whose card was used (the
    desk picked the wrong child): then the guardian and their ID stay on the visit."""
    return (
        guardian_id is not None
        and Guardianship.objects.filter(child=person, guardian_id=guardian_id).exists()
    )


def _groups(person: Person, visit: Visit, declared: Iterable[str]) -> list[str]:
    """The age groups on the visit's day, then the declared ones."""
    return [str(group) for group in priority_groups(person, visit.day, declared)]


def _reprioritise(visit: Visit, entries: list[QueueEntry], groups: list[str]) -> None:
    """The visit's groups and priority (as check-in derives it), and the same priority for
    its waiting entries; an entry called or ended keeps the one it was served under."""
    priority = priority_of(groups)
    visit.priority_groups, visit.priority = groups, priority
    QueueEntry.objects.filter(
        pk__in=[e.pk for e in entries if e.state == EntryState.WAITING]
    ).update(priority=priority)


# --- the log ---------------------------------------------------------------------------------


def _place(entry: QueueEntry) -> dict[str, Any]:
    point = entry.service_point
    return {"clinic": entry.department.code, "room": point.code if point else ""}


def _priority(visit: Visit) -> dict[str, Any]:
    return {"priority_groups": list(visit.priority_groups), "priority": int(visit.priority)}


def _identity(visit: Visit) -> dict[str, Any]:
    return {
        "person_id": visit.person_id,
        "identified_by": str(visit.identified_by),
        "document_number": visit.document_number,
        "guardian_id": visit.guardian_id,
        "eligibility_check_id": visit.eligibility_check_id,
        "priority_groups": list(visit.priority_groups),
    }


def _log(
    principal: object,
    visit: Visit,
    kind: VisitCorrection.Kind,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str,
) -> VisitCorrection:
    return VisitCorrection.objects.create(
        visit=visit, kind=kind, before=before, after=after, reason=reason,
        actor=actor_of(principal), at=clock.now(),
    )  # fmt: skip
