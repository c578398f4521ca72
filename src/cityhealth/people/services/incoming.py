"""Placing a record that arrives from another system (a legacy hospital record, a child on a
guardian's ID, a foreigner's papers) on its person: link, review or new.

The matcher (`people.matching`) decides; this use case acts on its decision:

- LINK: the person is answered, and the sender's own record number (`source_record_id` from
  `facility_code`) is kept on the person as a hospital record number, so the next record
  from that hospital with the same number is linked at once, without matching.
- REVIEW: a `MATCH_REVIEW` item keeps the record and the candidates for a clerk, who links
  it to one of them, registers a new person from it, or dismisses it (`resolve_review_item`).
  With `provisional=True` (a system that needs a person to file records under now, such as
  a hospital writing FHIR Patients) the record is also registered at once as a provisional
  person, without the identifiers another person holds; the item names it, and the clerk's
  "link" merges it into the chosen candidate (records filed under it follow the merge) while
  "register new" or "dismiss" keep it.
- NEW: nothing is written; the caller registers the person if it wants to (`register_person`,
  or `register_incoming_record` below with the same record).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cityhealth.core.identifiers import parse_citizen_id
from cityhealth.people.enums import (
    IdentifierKind,
    IdentifierStatus,
    MatchOutcome,
    ReviewKind,
)
from cityhealth.people.hooks import gathered, persons_changed
from cityhealth.people.matching import IncomingRecord, MatchResult, match_record
from cityhealth.people.matching.exact import citizen_number
from cityhealth.people.matching.types import Candidate
from cityhealth.people.models import Person, PersonIdentifier, ReviewItem
from cityhealth.people.selectors import check_facility_code, holders_of, survivor_of
from cityhealth.people.services._shared import _audit
from cityhealth.people.services.registration import register_person

HOSPITAL_RECORD_METHOD = "hospital_record"


@dataclass(frozen=True)
class IncomingMatch:
    result: MatchResult
    person: Person | None  # the linked person (LINK), else None
    review_item: ReviewItem | None  # the item written for REVIEW
    provisional: Person | None = None  # registered for REVIEW when asked (`provisional=True`)


def record_as_payload(record: IncomingRecord) -> dict[str, Any]:
    """The record as JSON-safe data, to keep in a review item and rebuild later."""
    data = dataclasses.asdict(record)
    data["birth_date"] = record.birth_date.isoformat() if record.birth_date else None
    data["birth_date_precision"] = str(record.birth_date_precision)
    return data


def record_from_payload(data: dict[str, Any]) -> IncomingRecord:
    fields = {f.name for f in dataclasses.fields(IncomingRecord)}
    values = {key: value for key, value in data.items() if key in fields}
    if values.get("birth_date"):
        values["birth_date"] = dt.date.fromisoformat(str(values["birth_date"]))
    return IncomingRecord(**values)


def _candidate_payload(candidate: Candidate) -> dict[str, Any]:
    return {
        "person_id": candidate.person_id,
        "probability": round(candidate.match_probability, 6),
        "weight": round(candidate.match_weight, 2),
        "reasons": list(candidate.reasons),
    }


def _known_record_number(record: IncomingRecord, facility_code: str) -> Person | None:
    """The person a hospital's own record number was already linked to, if any."""
    if not (record.source_record_id and facility_code):
        return None
    held = (
        PersonIdentifier.objects.filter(
            kind=IdentifierKind.HOSPITAL_RECORD,
            issuer=facility_code,
            value=record.source_record_id[:32],
            status=IdentifierStatus.ACTIVE,
        )
        .select_related("person")
        .first()
    )
    return survivor_of(held.person) if held is not None else None


def keep_record_number(
    *, person: Person, record: IncomingRecord, facility_code: str, actor: str
) -> None:
    """Remember the sender's record number on the person (once; never moved to another)."""
    if not (record.source_record_id and facility_code):
        return
    _identifier, created = PersonIdentifier.objects.get_or_create(
        kind=IdentifierKind.HOSPITAL_RECORD,
        issuer=facility_code,
        value=record.source_record_id[:32],
        status=IdentifierStatus.ACTIVE,
        defaults={"person": person, "source": "match"},
    )
    if created:
        _audit(
            "person.identifier_added",
            actor=actor,
            person_id=person.pk,
            facility_code=facility_code,
            details={"kind": IdentifierKind.HOSPITAL_RECORD, "issuer": facility_code},
        )
        persons_changed([person.pk])


@transaction.atomic
@gathered()
def match_incoming_record(
    *,
    record: IncomingRecord,
    actor: str,
    facility_code: str = "",
    source_ip: str = "",
    provisional: bool = False,
) -> IncomingMatch:
    """Find the person `record` belongs to and act on the outcome (see the module doc)."""
    facility_code = check_facility_code(facility_code)
    known = _known_record_number(record, facility_code)
    if known is not None:
        result = MatchResult(MatchOutcome.LINK, known.pk, method=HOSPITAL_RECORD_METHOD)
    else:
        result = match_record(record=record)

    details: dict[str, Any] = {
        "outcome": str(result.outcome),
        "method": result.method,
        "source_record_id": record.source_record_id[:32],
        "candidates": [_candidate_payload(c) for c in result.candidates],
    }
    person: Person | None = None
    item: ReviewItem | None = None
    registered: Person | None = None
    if result.outcome == MatchOutcome.LINK and result.person_id is not None:
        person = survivor_of(Person.objects.get(pk=result.person_id))
        keep_record_number(person=person, record=record, facility_code=facility_code, actor=actor)
    elif result.outcome == MatchOutcome.REVIEW:
        if provisional:
            registered = register_incoming_record(
                record=_without_held_identifiers(record),
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
            )
            details["provisional_person_id"] = registered.pk
        best = result.candidates[:2]
        payload: dict[str, Any] = {
            "record": record_as_payload(record),
            "facility_code": facility_code,
            "method": result.method,
            "candidates": details["candidates"],
        }
        if registered is not None:
            payload["provisional_person_id"] = registered.pk
        item = ReviewItem.objects.create(
            kind=ReviewKind.MATCH_REVIEW,
            person_id=best[0].person_id if best else None,
            other_person_id=best[1].person_id if len(best) > 1 else None,
            score=best[0].match_probability if best else None,
            payload=payload,
        )
        details["review_item_id"] = item.pk
    _audit(
        "person.matched",
        actor=actor,
        person_id=person.pk if person is not None else "",
        facility_code=facility_code,
        source_ip=source_ip,
        details=details,
    )
    return IncomingMatch(result=result, person=person, review_item=item, provisional=registered)


def _without_held_identifiers(record: IncomingRecord) -> IncomingRecord:
    """The record without the identifiers some person already holds (now or earlier): the
    doubt is precisely whose they are, so a provisional person does not take them."""
    number = citizen_number(record.citizen_id)
    if number is not None and holders_of(*number):
        record = dataclasses.replace(record, citizen_id="")
    issuer = (record.nationality or "VN").strip().upper()
    passport = record.passport.strip().upper()
    if passport and holders_of(IdentifierKind.PASSPORT, passport, issuer=issuer):
        record = dataclasses.replace(record, passport="")
    return record


def _guardian_of(record: IncomingRecord) -> Person | None:
    """The current holder of the guardian's citizen ID the record names, if any."""
    if not record.guardian_citizen_id.strip():
        return None
    number = parse_citizen_id(record.guardian_citizen_id).number
    holders = holders_of(IdentifierKind.CITIZEN_ID, number)
    return holders[0][0] if holders and holders[0][1] else None


@gathered()
def register_incoming_record(
    *,
    record: IncomingRecord,
    actor: str,
    facility_code: str = "",
    source_ip: str = "",
) -> Person:
    """Register the person an incoming record describes (after the matcher said NEW, or a
    clerk decided so), with the identifiers it carries and its sender's record number."""
    guardian = _guardian_of(record)
    # The matcher takes a 9-digit number in `citizen_id` as an old ID card's: so does this.
    number = citizen_number(record.citizen_id) if record.citizen_id.strip() else None
    old_card = number is not None and number[0] == IdentifierKind.OLD_ID
    registration = register_person(
        actor=actor,
        full_name=record.full_name,
        birth_date=record.birth_date,
        birth_date_precision=str(record.birth_date_precision) if record.birth_date else None,
        birth_year=None if record.birth_date else record.birth_year,
        sex=record.sex or "unknown",
        nationality=record.nationality or "VN",
        citizen_id="" if old_card else record.citizen_id,
        old_id=number[1] if number is not None and old_card else "",
        passport=record.passport,
        passport_country=record.nationality if record.passport else "",
        phone=record.phone,
        ward_code=record.ward_code,
        address=record.address,
        guardian=guardian,
        guardian_relationship="guardian" if guardian is not None else "",
        facility_code=facility_code,
        source_ip=source_ip,
        source="match",
    )
    person = registration.person
    keep_record_number(person=person, record=record, facility_code=facility_code, actor=actor)
    return person
