"""Walk-ins without a card of their own, registered at the desk and checked in at once: a
child on a guardian's citizen ID, a foreigner with a passport, an unknown or unconscious
person. The registry's `register_person` makes the person (its duplicate checks, guardian
links, approximate ages and audit); `check_in_person` opens the visit.

Registering and checking in are two steps that can part: a check-in refused after the person
was registered (a clinic that does not see them, no room open) keeps the person and says so
(`errors.registered_not_checked_in`, naming the record), and the form sent again finds that
person (the guardian's child of that name and birth date, the passport, or the record number
the desk carries back) instead of registering a second one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import ensure_permission
from cityhealth.core.errors import DomainError
from cityhealth.core.identifiers import parse_citizen_id
from cityhealth.core.names import name_key
from cityhealth.core.roles import Permission
from cityhealth.facilities.models import Facility
from cityhealth.people.enums import Sex
from cityhealth.people.errors import person_not_found
from cityhealth.people.models import Person
from cityhealth.people.selectors import lookup_by_citizen_id, survivor_of
from cityhealth.people.services import register_from_scan, register_person
from cityhealth.reception import errors, selectors
from cityhealth.reception.directory import clinic_by_code
from cityhealth.reception.enums import Channel, IdentifiedBy, PriorityGroup
from cityhealth.reception.services.check_in import (
    CheckIn,
    check_in_person,
    facility_for,
    read_scan,
)


@dataclass(frozen=True)
class WalkIn:
    check_in: CheckIn
    person: Person
    registered: bool  # a new record was made in the registry for this visit


@dataclass(frozen=True)
class GuardianAtDesk:
    """The guardian whose card was scanned or typed, and the children the registry links to
    them (for the desk to pick the one brought in)."""

    facility: Facility
    guardian: Person
    number: str  # the guardian's 12-digit citizen ID, kept on the child's visit
    children: list[Person]


def find_guardian(
    *, principal: object, facility_code: str, scan: str, source_ip: str = ""
) -> GuardianAtDesk:
    """The holder of the guardian's card (a scanned card's holder the registry does not know
    is registered from the card, as at the kiosk; a typed number must be known) and their
    children in the registry."""
    facility = _desk_facility(principal, facility_code)
    qr, typed = read_scan(scan)
    typed = typed.replace(" ", "")  # typed in groups of digits
    if qr:
        scanned = register_from_scan(
            qr=qr, actor=actor_of(principal), facility_code=facility.code, source_ip=source_ip
        )
        found, number = scanned.person, scanned.card.citizen_id.number
    elif typed:
        holder = lookup_by_citizen_id(
            principal=principal, citizen_id=typed, reason="guardian at the reception desk",
            source_ip=source_ip, facility_code=facility.code,
            permission=Permission.RECEPTION_DESK,
        )  # fmt: skip
        if holder is None:
            raise errors.guardian_not_registered()
        found, number = holder, parse_citizen_id(typed).number
    else:
        raise errors.no_identity()
    guardian = survivor_of(found)
    children = selectors.children_of(
        principal=principal, guardian=guardian, facility_code=facility.code, source_ip=source_ip
    )
    return GuardianAtDesk(facility, guardian, number, children)


def check_in_child(
    *,
    principal: object,
    facility_code: str,
    guardian_scan: str,
    clinic_code: str,
    child_id: int | None = None,
    full_name: str = "",
    birth_date: dt.date | None = None,
    sex: str = Sex.UNKNOWN,
    relationship: str = "",
    declared_groups: Iterable[str] = (),
    follow_up_slip: str = "",
    insured: bool = True,
    source_ip: str = "",
) -> WalkIn:
    """A child brought in on a guardian's citizen ID: one of the guardian's children already
    in the registry (`child_id`), or a new child registered linked to the guardian. The visit
    names the guardian and their ID number; the child's own insurance is checked (children
    under 6 have their own BHYT card)."""
    found = find_guardian(
        principal=principal, facility_code=facility_code, scan=guardian_scan, source_ip=source_ip
    )
    _ensure_clinic(found.facility, clinic_code)
    registered = False
    if child_id is not None:
        child = next((c for c in found.children if c.pk == child_id), None)
        if child is None:
            raise errors.child_not_found()  # not one of this guardian's: as if missing
    else:
        if not full_name.strip() or birth_date is None:
            raise errors.child_details_required()
        child = _same_child(found.children, full_name, birth_date)
        if child is None:
            child = register_person(
                actor=actor_of(principal), full_name=full_name, birth_date=birth_date, sex=sex,
                guardian=found.guardian, guardian_relationship=relationship,
                facility_code=found.facility.code, source_ip=source_ip,
            ).person  # fmt: skip
            registered = True
    return _check_in(
        principal=principal, facility=found.facility, person=child, registered=registered,
        clinic_code=clinic_code, identified_by=IdentifiedBy.GUARDIAN,
        document_number=found.number, guardian=found.guardian, declared_groups=declared_groups,
        follow_up_slip=follow_up_slip, insured=insured,
    )  # fmt: skip


def _same_child(children: list[Person], full_name: str, birth_date: dt.date) -> Person | None:
    """The guardian's child of this name and date of birth: the same form sent twice (or a
    child registered earlier) must not make a second record."""
    key = name_key(full_name)
    for child in children:
        if child.birth_date == birth_date and name_key(child.full_name) == key:
            return child
    return None


def check_in_foreigner(
    *,
    principal: object,
    facility_code: str,
    passport: str,
    country: str,
    clinic_code: str,
    full_name: str = "",
    birth_date: dt.date | None = None,
    sex: str = Sex.UNKNOWN,
    declared_groups: Iterable[str] = (),
    follow_up_slip: str = "",
    insured: bool = False,
    source_ip: str = "",
) -> WalkIn:
    """A foreigner with a passport: found by the passport if registered before, else
    registered with it. Fee-paying unless the desk says otherwise (`insured`): a foreigner
    rarely holds a Vietnamese BHYT card."""
    facility = _desk_facility(principal, facility_code)
    number, issuer = passport.strip().upper(), country.strip().upper()
    if not number or not issuer:
        raise errors.passport_required()
    _ensure_clinic(facility, clinic_code)
    person = selectors.person_by_passport(
        principal=principal, number=number, issuer=issuer, facility_code=facility.code,
        source_ip=source_ip,
    )  # fmt: skip
    registered = person is None
    if person is None:
        if not full_name.strip():
            raise errors.passport_required()
        person = register_person(
            actor=actor_of(principal), full_name=full_name, birth_date=birth_date, sex=sex,
            nationality=issuer, passport=number, passport_country=issuer,
            facility_code=facility.code, source_ip=source_ip,
        ).person  # fmt: skip
    return _check_in(
        principal=principal, facility=facility, person=person, registered=registered,
        clinic_code=clinic_code, identified_by=IdentifiedBy.PASSPORT, document_number=number,
        declared_groups=declared_groups, follow_up_slip=follow_up_slip, insured=insured,
    )  # fmt: skip


def check_in_unknown(
    *,
    principal: object,
    facility_code: str,
    clinic_code: str,
    approximate_age: int | None = None,
    sex: str = Sex.UNKNOWN,
    emergency: bool = False,
    person_id: int | None = None,
    source_ip: str = "",
) -> WalkIn:
    """An unknown or unconscious person, registered as unknown with an approximate age and
    sex; no insurance check (nobody to check). `person_id`: the record an earlier attempt
    registered (its check-in was refused), taken again instead of a new one. Once the person
    is identified, the registry's merge folds this record into theirs."""
    facility = _desk_facility(principal, facility_code)
    _ensure_clinic(facility, clinic_code)
    if person_id is not None:
        person = _earlier_unknown(person_id)
        registered = False
    else:
        person = register_person(
            actor=actor_of(principal), approximate_age=approximate_age, sex=sex,
            facility_code=facility.code, source_ip=source_ip,
        ).person  # fmt: skip
        registered = True
    return _check_in(
        principal=principal, facility=facility, person=person, registered=registered,
        clinic_code=clinic_code, identified_by=IdentifiedBy.UNIDENTIFIED,
        declared_groups=[PriorityGroup.EMERGENCY] if emergency else [], insured=False,
    )  # fmt: skip


def _earlier_unknown(person_id: int) -> Person:
    """Only a record without papers is taken back this way: the form for unknown persons
    must not become a way to check in anyone by their record number."""
    person = Person.objects.filter(pk=person_id, merged_into__isnull=True).first()
    if person is None or person.identifiers.exists():
        raise person_not_found()
    return person


def _check_in(
    *,
    principal: object,
    facility: Facility,
    person: Person,
    registered: bool,
    clinic_code: str,
    identified_by: IdentifiedBy,
    document_number: str = "",
    guardian: Person | None = None,
    declared_groups: Iterable[str] = (),
    follow_up_slip: str = "",
    insured: bool = True,
) -> WalkIn:
    try:
        # A savepoint: the desk answers a refusal without rolling its request back (the new
        # record must stay), so whatever a refused check-in wrote must go by itself.
        with transaction.atomic():
            done = check_in_person(
                principal=principal, facility=facility, person=person, clinic_code=clinic_code,
                channel=Channel.DESK, identified_by=identified_by,
                document_number=document_number, guardian=guardian,
                declared_groups=declared_groups, follow_up_slip=follow_up_slip, insured=insured,
            )  # fmt: skip
    except DomainError as refused:
        if not registered:
            raise
        raise errors.registered_not_checked_in(person_id=person.pk, cause=refused) from refused
    return WalkIn(done, person, registered)


def _desk_facility(principal: object, code: str) -> Facility:
    ensure_permission(principal, Permission.RECEPTION_DESK)
    return facility_for(principal, code)


def _ensure_clinic(facility: Facility, code: str) -> None:
    """A clinic code the hospital does not have is refused before anyone is registered (a
    typo must not leave a record behind); whether the clinic sees the person is for the
    check-in to decide."""
    clinic_by_code(facility, code)
