"""A person as a FHIR R4 Patient resource (plain JSON-ready dict).

Identifier systems are the NamingSystems of the Việt Nam Core IG (`hl7.fhir.vn.core`), as
listed in the project's reference (shared/reference/fhir.md §7), which follows the IG's
descriptions: the 12-digit personal ID under `national_id`, the old 9-digit card under
`citizen_id`. The IG is still a draft and its URIs and descriptions look swapped, so the
systems are kept together in `IDENTIFIER_SYSTEMS` where they can be changed in one place.

The caller is responsible for the access check and the audit entry (`selectors.access_person`).
"""

from __future__ import annotations

from typing import Any

from cityhealth.core.names import split_name
from cityhealth.people.enums import IdentifierKind, IdentifierStatus, Sex
from cityhealth.people.models import InsuranceCard, Person, PersonIdentifier
from cityhealth.people.selectors import birth_text

VN_CORE_SID = "http://fhir.ehealth.gov.vn/core/sid"
IDENTIFIER_SYSTEMS: dict[str, str] = {
    IdentifierKind.CITIZEN_ID: f"{VN_CORE_SID}/national_id",
    IdentifierKind.OLD_ID: f"{VN_CORE_SID}/citizen_id",
    IdentifierKind.PASSPORT: f"{VN_CORE_SID}/passport_number",
    IdentifierKind.SOCIAL_INSURANCE: f"{VN_CORE_SID}/insurance_number",
}
INTERNAL_ID_SYSTEM = f"{VN_CORE_SID}/patient-internal-id"
# No VN Core system for a hospital's own record number: a URN of the platform, per facility.
HOSPITAL_RECORD_SYSTEM = "urn:cityhealth:sid:hospital-record"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"

_TYPE_CODES = {
    IdentifierKind.CITIZEN_ID: ("NI", "National unique individual identifier"),
    IdentifierKind.OLD_ID: ("NI", "National unique individual identifier"),
    IdentifierKind.PASSPORT: ("PPN", "Passport number"),
    IdentifierKind.SOCIAL_INSURANCE: ("HC", "Health card number"),
    IdentifierKind.HOSPITAL_RECORD: ("MR", "Medical record number"),
}
_RELATIONSHIP_CODES = {
    "mother": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "guardian": ("GUARD", "guardian"),
}
_GUARDIAN = ("GUARD", "guardian")
_GENDERS = {Sex.MALE: "male", Sex.FEMALE: "female", Sex.UNKNOWN: "unknown"}


def _period(start: Any, end: Any) -> dict[str, str]:
    period: dict[str, str] = {}
    if start:
        period["start"] = start.isoformat()
    if end:
        period["end"] = end.isoformat()
    return period


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _identifier(identifier: PersonIdentifier) -> dict[str, Any]:
    kind = IdentifierKind(identifier.kind)
    system = IDENTIFIER_SYSTEMS.get(kind)
    if system is None:
        system = f"{HOSPITAL_RECORD_SYSTEM}:{identifier.issuer or 'unknown'}"
    code, display = _TYPE_CODES[kind]
    entry: dict[str, Any] = {
        "use": "official" if identifier.status == IdentifierStatus.ACTIVE else "old",
        "type": _coding(V2_IDENTIFIER_TYPE, code, display),
        "system": system,
        "value": identifier.value,
    }
    period = _period(identifier.valid_from, identifier.valid_to)
    if period:
        entry["period"] = period
    if kind == IdentifierKind.PASSPORT and identifier.issuer:
        entry["assigner"] = {"display": identifier.issuer}
    return entry


def _card_identifier(card: InsuranceCard) -> dict[str, Any]:
    code, display = _TYPE_CODES[IdentifierKind.SOCIAL_INSURANCE]
    entry: dict[str, Any] = {
        "use": "official",
        "type": _coding(V2_IDENTIFIER_TYPE, code, display),
        "system": IDENTIFIER_SYSTEMS[IdentifierKind.SOCIAL_INSURANCE],
        "value": card.code or card.social_insurance_number,
    }
    period = _period(card.valid_from, card.valid_to)
    if period:
        entry["period"] = period
    return entry


def _name(person: Person) -> dict[str, Any]:
    parts = split_name(person.full_name)
    name: dict[str, Any] = {"use": "official", "text": person.full_name}
    if parts.family:
        name["family"] = parts.family
    given = [*parts.middle.split(), parts.given] if parts.given else parts.middle.split()
    if given:
        name["given"] = given
    return name


def _address(person: Person) -> dict[str, Any] | None:
    if not person.address and person.ward is None:
        return None
    address: dict[str, Any] = {"use": "home", "country": "VN"}
    text_parts = [person.address] if person.address else []
    if person.address:
        address["line"] = [person.address]
    if person.ward is not None:
        # Since 07/2025 a province has communes and wards directly, with no district level:
        # the ward goes where FHIR puts the unit below the city, the province in `state`.
        address["district"] = person.ward.name
        address["state"] = person.ward.province.name
        text_parts += [person.ward.name, person.ward.province.name]
    address["text"] = ", ".join(part for part in text_parts if part)
    return address


def person_as_fhir_patient(person: Person) -> dict[str, Any]:
    """A FHIR R4 Patient for `person`: identifiers with their history (a cancelled ID keeps
    its `period.end`), name, gender, birth date at its precision, address with ward,
    telecom, deceased flag, guardians as contacts and links to merged records."""
    identifiers: list[dict[str, Any]] = [
        {
            "use": "secondary",
            "system": INTERNAL_ID_SYSTEM,
            "value": str(person.pk),
        }
    ]
    order: dict[str, int] = {"active": 0, "cancelled": 1, "retired": 2}
    held = sorted(person.identifiers.all(), key=lambda i: (order.get(i.status, 3), i.kind, i.pk))
    identifiers += [_identifier(i) for i in held if i.status != IdentifierStatus.RETIRED]
    seen = {(entry["system"], entry["value"]) for entry in identifiers}
    for card in person.insurance_cards.all():
        entry = _card_identifier(card)
        if (entry["system"], entry["value"]) not in seen:
            seen.add((entry["system"], entry["value"]))
            identifiers.append(entry)

    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(person.pk),
        "meta": {"lastUpdated": person.updated_at.isoformat()},
        "identifier": identifiers,
        "active": person.merged_into_id is None,
        "name": [_name(person)],
        "gender": _GENDERS.get(Sex(person.sex), "unknown"),
    }
    if person.phone:
        patient["telecom"] = [{"system": "phone", "value": person.phone, "use": "mobile"}]
    birth_date = birth_text(person)
    if birth_date:
        patient["birthDate"] = birth_date
    patient["deceasedBoolean"] = person.deceased
    address = _address(person)
    if address:
        patient["address"] = [address]
    contacts = [
        {
            "relationship": [
                _coding(
                    V3_ROLE_CODE, *_RELATIONSHIP_CODES.get(link.relationship, ("GUARD", "guardian"))
                )
            ],
            "name": {"text": link.guardian.full_name},
        }
        for link in person.guardians.all()
    ]
    if contacts:
        patient["contact"] = contacts
    links: list[dict[str, Any]] = []
    if person.merged_into_id is not None:
        links.append(
            {"other": {"reference": f"Patient/{person.merged_into_id}"}, "type": "replaced-by"}
        )
    for retired in person.merged_from.all():
        links.append({"other": {"reference": f"Patient/{retired.pk}"}, "type": "replaces"})
    if links:
        patient["link"] = links
    return patient
