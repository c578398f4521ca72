"""Check-in: from a scanned or typed citizen ID (or a person the desk registered) to a visit
with its ticket in a clinic's queue, insurance checked on the way.

A person has one open visit per hospital: a second scan, a double tap or two kiosks at once
give the same ticket back (a partial unique constraint decides races), never a second one."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from cityhealth.accounts.selectors import actor_of, acts_at, staff_identity
from cityhealth.core import clock
from cityhealth.core.access import ensure_permission
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.db import insert_row, prepared_statements
from cityhealth.facilities.models import Department, Facility
from cityhealth.insurance.selectors import eligibility_of, kiosk_staff
from cityhealth.insurance.services import check_eligibility
from cityhealth.insurance.types import EligibilityResult
from cityhealth.people.models import Person
from cityhealth.people.selectors import lookup_by_citizen_id, survivor_of
from cityhealth.people.services import register_from_scan
from cityhealth.reception import encounters, errors
from cityhealth.reception.clinics import clinics_for, priority_groups, priority_of, suits
from cityhealth.reception.directory import active_facility, clinic_by_code
from cityhealth.reception.enums import (
    Channel,
    EntryState,
    IdentifiedBy,
    Priority,
    VisitStatus,
)
from cityhealth.reception.models import QueueEntry, TicketSequence, Visit
from cityhealth.reception.services.claims import checkin_record
from cityhealth.reception.services.queues import choose_room, close_stale_visit
from cityhealth.reception.waits import estimate_wait, minutes_for

PREFIX = {Priority.NORMAL: "A", Priority.PRIORITY: "U", Priority.EMERGENCY: "C"}
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckIn:
    visit: Visit
    entry: QueueEntry  # the clinic queue entry the ticket is for
    eligibility: EligibilityResult | None
    wait_minutes: int
    again: bool  # the person's open visit, given back (a second scan or tap)


def facility_by_code(code: str) -> Facility:
    facility = active_facility(code)
    if facility is None:
        raise errors.facility_not_found()
    return facility


@dataclass(frozen=True)
class Identified:
    """Who is at the kiosk or desk, their insurance for today, the clinics they may choose,
    and the visit they already have here (then there is nothing to choose)."""

    facility: Facility
    person: Person
    identified_by: IdentifiedBy
    document_number: str
    eligibility: EligibilityResult | None
    clinics: list[Department]
    open_visit: CheckIn | None


def read_scan(text: str) -> tuple[str, str]:
    """(QR text, typed number) of what a scanner or a keyboard put in the one field: a chip
    card's QR is pipe-separated fields, anything else is taken for the 12-digit number."""
    text = text.strip()
    return (text, "") if "|" in text else ("", text)


def identify(
    *,
    principal: object,
    facility_code: str,
    qr: str = "",
    citizen_id: str = "",
    source_ip: str = "",
    insured: bool = True,
    with_clinics: bool = False,
) -> Identified:
    """Find the card's holder (a QR's holder the registry does not know is registered from
    the card; a typed number must be known) and check their insurance for the visit."""
    ensure_permission(principal, Permission.CHECK_IN)
    facility = facility_for(principal, facility_code)
    if qr.strip():
        scanned = register_from_scan(
            qr=qr.strip(), actor=actor_of(principal), facility_code=facility.code,
            source_ip=source_ip,
        )  # fmt: skip
        person, how, number = scanned.person, IdentifiedBy.CCCD_QR, scanned.card.citizen_id.number
    elif citizen_id.strip():
        found = lookup_by_citizen_id(
            principal=principal, citizen_id=citizen_id.strip(), reason="check-in",
            source_ip=source_ip, facility_code=facility.code, permission=Permission.CHECK_IN,
        )  # fmt: skip
        if found is None:
            raise errors.not_registered()
        person, how, number = found, IdentifiedBy.CITIZEN_ID, citizen_id.strip()
    else:
        raise errors.no_identity()
    person = survivor_of(person)
    if person.deceased:
        raise errors.deceased()
    day = clock.today()
    existing = _open_visit(facility, person, day)
    if existing is not None:
        again = _again(existing)
        return Identified(facility, person, how, number, again.eligibility, [], again)
    eligibility = _eligibility(principal, facility, person) if insured else None
    clinics = clinics_for(facility, person, day) if with_clinics else []
    return Identified(facility, person, how, number, eligibility, clinics, None)


def check_in_with_cccd(
    *,
    principal: object,
    facility_code: str,
    clinic_code: str,
    qr: str = "",
    citizen_id: str = "",
    channel: Channel = Channel.KIOSK,
    declared_groups: Iterable[str] = (),
    started_at: dt.datetime | None = None,
    source_ip: str = "",
) -> CheckIn:
    """Identify the card's holder and check them in to `clinic_code` in one step (a
    hospital's system, a desk that knows the clinic already)."""
    with prepared_statements():  # hospital systems call this hundreds of times a second
        found = identify(
            principal=principal, facility_code=facility_code, qr=qr, citizen_id=citizen_id,
            source_ip=source_ip,
        )  # fmt: skip
        if found.open_visit is not None:
            return found.open_visit
        return check_in_person(
            principal=principal, facility=found.facility, person=found.person,
            clinic_code=clinic_code, channel=channel, identified_by=found.identified_by,
            document_number=found.document_number, declared_groups=declared_groups,
            started_at=started_at, eligibility=found.eligibility, none_open=True,
            insured=found.eligibility is not None,  # could not be checked a moment ago
        )  # fmt: skip


def check_in_known(
    *,
    principal: object,
    facility_code: str,
    person_id: int,
    clinic_code: str,
    identified_by: str,
    document_number: str,
    check_id: int | None,
    started_at: dt.datetime | None = None,
) -> CheckIn:
    """The kiosk's second step: the person it identified a moment ago (carried in a signed
    pass) goes to the clinic chosen, with the insurance check already made."""
    facility = facility_for(principal, facility_code)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise errors.visit_not_found()
    eligibility = eligibility_of(check_id=check_id) if check_id is not None else None
    return check_in_person(
        principal=principal, facility=facility, person=person, clinic_code=clinic_code,
        channel=Channel.KIOSK, identified_by=IdentifiedBy(identified_by),
        document_number=document_number, started_at=started_at, eligibility=eligibility,
    )  # fmt: skip


def check_in_at_desk(
    *,
    principal: object,
    facility_code: str,
    clinic_code: str,
    scan: str = "",
    person_id: str = "",
    declared_groups: Iterable[str] = (),
    follow_up_slip: str = "",
    insured: bool = True,
    source_ip: str = "",
) -> CheckIn:
    """The desk: a card scanned or typed, or a person registered a moment ago (a walk-in
    without a card: a child on a guardian's ID, a foreigner, an unknown person), with
    declared priority groups, a follow-up slip, or no insurance check (fee-paying)."""
    ensure_permission(principal, Permission.RECEPTION_DESK)
    qr, number = read_scan(scan)
    if qr or number:
        found = identify(
            principal=principal, facility_code=facility_code, qr=qr, citizen_id=number,
            source_ip=source_ip, insured=insured,
        )  # fmt: skip
        if found.open_visit is not None:
            return found.open_visit
        facility, person, how = found.facility, found.person, found.identified_by
        number, eligibility = found.document_number, found.eligibility
    elif person_id.strip().isdigit():
        facility = facility_for(principal, facility_code)
        known = Person.objects.filter(pk=int(person_id)).first()
        if known is None:
            raise errors.person_required()
        person, how, number, eligibility = known, IdentifiedBy.UNIDENTIFIED, "", None
    else:
        raise errors.person_required()
    return check_in_person(
        principal=principal, facility=facility, person=person, clinic_code=clinic_code,
        channel=Channel.DESK, identified_by=how, document_number=number,
        declared_groups=declared_groups, follow_up_slip=follow_up_slip, insured=insured,
        eligibility=eligibility, none_open=bool(qr or number),
    )  # fmt: skip


def check_in_person(
    *,
    principal: object,
    facility: Facility,
    person: Person,
    clinic_code: str,
    channel: Channel,
    identified_by: IdentifiedBy,
    document_number: str = "",
    guardian: Person | None = None,
    follow_up_slip: str = "",
    declared_groups: Iterable[str] = (),
    insured: bool = True,
    started_at: dt.datetime | None = None,
    eligibility: EligibilityResult | None = None,
    none_open: bool = False,
) -> CheckIn:
    """Open a visit for a known person: the ticket in the chosen clinic's least busy room.
    `insured=False` (a fee-paying patient, a foreigner) skips the insurance check;
    `eligibility` is a check made a moment ago while identifying the person; `none_open`:
    the caller has just found no open visit (the unique constraint still decides a race)."""
    ensure_permission(principal, Permission.CHECK_IN)
    _ensure_acts_at(principal, facility)
    person = survivor_of(person)
    if person.deceased:
        raise errors.deceased()
    day = clock.today()
    groups = priority_groups(person, day, declared_groups)
    existing = None if none_open else _open_visit(facility, person, day)
    if existing is not None:
        return _again(existing)
    clinic = clinic_by_code(facility, clinic_code)
    if not suits(clinic, person, day):
        raise errors.clinic_unsuited(clinic.name)
    priority = priority_of(groups)
    choice = choose_room(clinic, priority=priority)
    if not insured:
        eligibility = None
    elif eligibility is None:
        eligibility = _eligibility(principal, facility, person)
    now = clock.now()
    try:
        with transaction.atomic():
            visit = Visit(
                facility=facility, person=person, token=secrets.token_urlsafe(16), day=day,
                prefix=PREFIX[priority], number=_next_number(facility, day, PREFIX[priority]),
                priority=priority, priority_groups=[str(g) for g in groups], channel=channel,
                identified_by=identified_by, document_number=document_number[:20],
                guardian=guardian, follow_up_slip=follow_up_slip[:40],
                eligibility_check_id=eligibility.check_id if eligibility else None,
                started_at=started_at if started_at and started_at <= now else None,
                checked_in_at=now, checked_in_by=actor_of(principal),
            )  # fmt: skip
            visit.claim_checkin = checkin_record(visit, person, eligibility)
            insert_row(visit)  # as save(force_insert=True), without compiling it
            entry = QueueEntry(
                visit=visit, facility=facility, department=clinic, service_point=choice.room,
                step=1, state=EntryState.WAITING, priority=priority, entered_at=now,
            )  # fmt: skip
            insert_row(entry)
            encounters.after_commit(visit.pk)
    except IntegrityError:
        # Another kiosk or tap opened this person's visit a moment ago: that one is theirs.
        existing = _open_visit(facility, person, day)
        if existing is None:
            raise
        return _again(existing)
    # Clinic patients wait for a room, so those ahead are that room's (counted with the
    # room's choice a moment ago, not once more).
    wait = minutes_for(ahead=choice.ahead, department=clinic)
    return CheckIn(visit, entry, eligibility, wait, again=False)


def _eligibility(principal: object, facility: Facility, person: Person) -> EligibilityResult | None:
    """Outside the visit's transaction: the gateway may take seconds, and the check keeps
    its own row (re-checked in the background when the gateway is down). What cannot be
    checked at all (a hospital without its BHYT code, a person with neither card nor ID)
    does not stop the visit: it goes on unchecked, as a fee-paying one would."""
    name, staff_id = staff_identity(principal)
    if not staff_id:  # a kiosk or a hospital's system: the operator registered for it
        name, staff_id = kiosk_staff()
    try:
        return check_eligibility(
            person=person, facility=facility, staff_name=name, staff_citizen_id=staff_id
        )
    except InvalidInput as unchecked:
        logger.warning("check-in at %s without an insurance check: %s", facility.code, unchecked)
        return None


def facility_for(principal: object, code: str) -> Facility:
    """The active facility of that code, if the caller works there; else as if it did not
    exist (no probing of other hospitals)."""
    facility = facility_by_code(code)
    _ensure_acts_at(principal, facility)
    return facility


def _ensure_acts_at(principal: object, facility: Facility) -> None:
    if not acts_at(principal, facility.pk):
        raise errors.facility_not_found()  # as if it did not exist: no probing of others


def _next_number(facility: Facility, day: dt.date, prefix: str) -> int:
    """The next ticket number of the day: one row per facility, day and prefix, bumped and
    read in one statement (the UPDATE holds the row's lock to the end of the visit's
    transaction, so two check-ins never get the same number)."""
    table = TicketSequence._meta.db_table
    bump = (
        f"UPDATE {table} SET last = last + 1 "  # noqa: S608 - the model's own table name
        "WHERE facility_id = %s AND day = %s AND prefix = %s RETURNING last"
    )
    params = [facility.pk, connection.ops.adapt_datefield_value(day), prefix]
    with connection.cursor() as cursor:
        cursor.execute(bump, params)
        row = cursor.fetchone()
        if row is None:  # the first ticket of the day with this prefix
            TicketSequence.objects.get_or_create(facility=facility, day=day, prefix=prefix)
            cursor.execute(bump, params)
            row = cursor.fetchone()
    return int(row[0])


def _open_visit(facility: Facility, person: Person, day: dt.date) -> Visit | None:
    """The person's open visit here today. One left open from an earlier day is closed: the
    hospital's day is over, and the new one must not be blocked by it."""
    # Nearly every check-in finds none: a probe of the one-open index, plain SQL (the ORM's
    # compiling of the same read cost five times the statement); the visit read only if so.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Visit._meta.db_table} "  # noqa: S608 - the model's own table
            "WHERE facility_id = %s AND person_id = %s AND status = %s",
            [facility.pk, person.pk, VisitStatus.OPEN.value],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    visit = Visit.objects.get(pk=row[0])
    if visit.day == day:
        return visit
    close_stale_visit(visit=visit)
    return None


def _again(visit: Visit) -> CheckIn:
    entry = visit.entries.order_by("-step").first()
    assert entry is not None  # every visit is made with its first entry
    eligibility = (
        eligibility_of(check_id=visit.eligibility_check_id)
        if visit.eligibility_check_id is not None
        else None
    )
    return CheckIn(visit, entry, eligibility, estimate_wait(entry), again=True)
