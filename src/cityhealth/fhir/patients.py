"""Patients that hospital systems send, and `Patient/$match` (IHE PDQm ITI-119).

A Patient is never stored as it came: it is the registry's person (decision 0005). What a
hospital sends is read as the registry's incoming record (identifiers by VN Core system,
its own record number, name, birth date, gender, address, phone) and placed by the
registry's matcher (`people.services.match_incoming_record`):

- linked: the person exists. The hospital's record number is kept on them, so its next
  record links at once. Answer 200 with `Patient/{person id}`.
- new: the person is registered. Answer 201.
- review (the matcher is not sure): a hospital system cannot wait for a clerk, it needs a
  Patient id to file the Encounter it is sending now. So the record is registered as a
  *provisional* person (without any identifier another person holds) and answered 201 like
  a new one, while a review item puts it before a clerk with its candidates. If the clerk
  links it to a candidate, the provisional person is merged into that candidate: its
  Patient becomes `active: false` with a `replaced-by` link, a read of its id answers the
  survivor, and everything filed under it is in the survivor's record. Nothing is ever
  linked to a candidate on a guess (that would file one person's data in another's record);
  two records of one person that a clerk has not yet merged are the lesser harm.

`PUT Patient/{id}` asserts that the record is that person: the registry's matcher must
agree (it links the record to `{id}`, e.g. by the hospital's record number or a citizen ID),
else 409 and nothing changes. What the body says that differs from the registry is not
written: the registry is the master, and changes to a person go through its use cases and
review items (as a scanned card that disagrees does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from cityhealth.core.access import api_principal
from cityhealth.core.errors import Conflict, InvalidInput, NotFound
from cityhealth.core.names import name_key
from cityhealth.core.roles import Permission
from cityhealth.fhir import conditional, negotiation
from cityhealth.fhir.access import Touched, access_of, authorize, guard_read, note_touched
from cityhealth.fhir.common import actor, request_body
from cityhealth.fhir.outcome import fhir_response
from cityhealth.people import selectors as people
from cityhealth.people import services as registry
from cityhealth.people.enums import DatePrecision, MatchOutcome
from cityhealth.people.models import Person
from cityhealth.people.types import (
    HOSPITAL_RECORD_SYSTEM,
    IDENTIFIER_SYSTEMS,
    INTERNAL_ID_SYSTEM,
    V2_IDENTIFIER_TYPE,
    IncomingRecord,
    MatchResult,
)
from cityhealth.records import errors, services
from cityhealth.records.models import Resource

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"
# Below this probability a candidate is "certainly not" the person (PDQm's lowest grade).
POSSIBLE_FLOOR = 0.05
MATCH_COUNT_MAX = 20
_KIND_OF_SYSTEM = {system: str(kind) for kind, system in IDENTIFIER_SYSTEMS.items()}
_HOSPITAL_PREFIX = f"{HOSPITAL_RECORD_SYSTEM}:"


@dataclass(frozen=True)
class Incoming:
    record: IncomingRecord
    # (kind, value) of every identifier the Patient carries, for the lock against twins.
    identifiers: tuple[tuple[str, str], ...]


# --- reading a Patient as the registry's incoming record -----------------------------------


def incoming_record(patient: dict[str, Any], *, facility_code: str) -> Incoming:
    """The registry's view of a (validated) Patient sent by `facility_code`'s system."""
    found: dict[str, str] = {}
    record_number = ""
    nationality = ""
    every: list[tuple[str, str]] = []
    for identifier in patient.get("identifier", []):
        system = str(identifier.get("system", ""))
        value = str(identifier.get("value", "")).strip()
        if not value:
            continue
        kind = _KIND_OF_SYSTEM.get(system)
        if kind is not None:
            every.append((kind, value))
            if identifier.get("use") != "old":  # an earlier card's number is not the person's now
                found.setdefault(kind, value)
            if kind == "passport":
                issuer = str(identifier.get("assigner", {}).get("display", "")).strip().upper()
                nationality = issuer if len(issuer) == 2 and issuer.isalpha() else nationality
        elif _is_record_number(identifier, system, facility_code) and not record_number:
            record_number = value[:32]
            every.append(("hospital_record", f"{facility_code}|{record_number}"))
    birth = _birth(patient.get("birthDate"))
    gender = patient.get("gender")
    record = IncomingRecord(
        full_name=_full_name(patient),
        birth_date=birth[0],
        birth_year=birth[1],
        birth_date_precision=birth[2],
        sex=gender if gender in ("male", "female") else "",
        # The matcher reads a 9-digit number here as an old ID card's.
        citizen_id=found.get("citizen_id") or found.get("old_id", ""),
        social_insurance_number=found.get("social_insurance", ""),
        passport=found.get("passport", "").upper(),
        nationality=nationality,
        phone=_phone(patient),
        address=_address(patient),
        source_record_id=record_number,
    )
    if not record.full_name and not found and not record_number:
        raise InvalidInput(
            "patient.nothing_to_match",
            vi="Người bệnh không có họ tên hay giấy tờ nào để đối chiếu.",
            en="The Patient has neither a name nor an identifier to match on.",
            field="name",
        )
    return Incoming(record=record, identifiers=tuple(every))


def _is_record_number(identifier: dict[str, Any], system: str, facility_code: str) -> bool:
    """The sending hospital's own number for the patient: typed MR, or its internal id, or
    the platform's URN for that hospital. Our own person id (`use: secondary` under the
    internal-id system, as we render it) is not a hospital's number."""
    if not facility_code:
        return False
    if system.startswith(_HOSPITAL_PREFIX):
        return system.removeprefix(_HOSPITAL_PREFIX) == facility_code
    if system == INTERNAL_ID_SYSTEM:
        return identifier.get("use") != "secondary"
    codings = identifier.get("type", {}).get("coding", [])
    return any(c.get("system") == V2_IDENTIFIER_TYPE and c.get("code") == "MR" for c in codings)


def _full_name(patient: dict[str, Any]) -> str:
    names = patient.get("name", [])
    if not names:
        return ""
    ranked = sorted(names, key=lambda n: {"official": 0, "usual": 1}.get(n.get("use", ""), 2))
    name = ranked[0]
    if name.get("text"):
        return str(name["text"]).strip()[:200]
    # Vietnamese order: family name, then the middle and given names.
    parts = [name.get("family", ""), *name.get("given", [])]
    return " ".join(str(p).strip() for p in parts if p)[:200]


def _birth(value: Any) -> tuple[dt.date | None, int | None, DatePrecision]:
    text = str(value or "")
    try:
        if len(text) == 4:
            return None, int(text), DatePrecision.YEAR
        if len(text) == 7:
            born = dt.date(int(text[:4]), int(text[5:7]), 1)
            return born, born.year, DatePrecision.MONTH
        if len(text) >= 10:
            born = dt.date.fromisoformat(text[:10])
            return born, born.year, DatePrecision.DAY
    except ValueError:
        pass
    return None, None, DatePrecision.DAY


def _phone(patient: dict[str, Any]) -> str:
    for telecom in patient.get("telecom", []):
        if telecom.get("system") == "phone" and telecom.get("value"):
            try:
                return people.normalise_phone(str(telecom["value"]))
            except InvalidInput:
                continue  # a number the registry cannot read is left out, not refused
    return ""


def _address(patient: dict[str, Any]) -> str:
    addresses = patient.get("address", [])
    if not addresses:
        return ""
    address = sorted(addresses, key=lambda a: a.get("use") != "home")[0]
    if address.get("line"):
        return ", ".join(str(line) for line in address["line"])[:300]
    return str(address.get("text", ""))[:300]


# --- accepting a Patient -------------------------------------------------------------------


def accept_patient(
    *,
    body: Any,
    source: str,
    facility_code: str = "",
    person_id: int | None = None,
    source_ip: str = "",
) -> tuple[int, str]:
    """Place a Patient a hospital sends on its person (see the module doc): (person id,
    "linked" | "created" | "review"), the store's `Patient/{person id}` refreshed. With
    `person_id` (an update of `Patient/{person_id}`) the matcher must link the record to
    that person, else `patient.not_this_person` (409). `facility_code` is the sending
    hospital, whose record number is kept on the person."""
    checked = services.check_resource(body=body).body
    if checked["resourceType"] != "Patient":
        raise errors.InvalidResource(
            issues=[("Patient.resourceType", errors.Said("must be Patient", "phải là Patient"))]
        )
    facility_code = people.check_facility_code(facility_code)
    incoming = incoming_record(checked, facility_code=facility_code)
    _lock_against_twins(incoming)
    if person_id is not None:
        return _confirm(incoming.record, person_id, source, facility_code, source_ip)
    found = registry.match_incoming_record(
        record=incoming.record,
        actor=source,
        facility_code=facility_code,
        source_ip=source_ip,
        provisional=True,
    )
    if found.person is not None:
        placed, how = found.person.pk, "linked"
    elif found.provisional is not None:
        placed, how = found.provisional.pk, "review"
    else:
        placed = registry.register_incoming_record(
            record=incoming.record, actor=source, facility_code=facility_code, source_ip=source_ip
        ).pk
        how = "created"
    services.project_patient(
        person_id=placed
    )  # a person loaded in bulk may not have been projected
    return placed, how


def _confirm(
    record: IncomingRecord, person_id: int, source: str, facility_code: str, source_ip: str
) -> tuple[int, str]:
    target = Person.objects.filter(pk=person_id).first()
    if target is None:
        raise errors.resource_not_found("Patient", str(person_id))
    survivor = people.survivor_of(target)
    found = registry.match_incoming_record(
        record=record, actor=source, facility_code=facility_code, source_ip=source_ip
    )
    if found.person is None or found.person.pk != survivor.pk:
        raise Conflict(
            "patient.not_this_person",
            vi=f"Sổ đăng ký không xác nhận hồ sơ gửi lên là Patient/{person_id} "
            f"({_finding_vi(found.result)}); không có gì được ghi. Hãy gửi bằng POST "
            "/Patient để sổ đăng ký tự đối chiếu.",
            en=f"The registry does not confirm that this record is Patient/{person_id} "
            f"({_finding_en(found.result)}); nothing was written. Send it with POST "
            "/Patient for the registry to place it.",
        )
    services.project_patient(person_id=survivor.pk)
    return survivor.pk, "linked"


def _finding_vi(result: MatchResult) -> str:
    if result.outcome == MatchOutcome.LINK:
        return f"hồ sơ khớp với Patient/{result.person_id}"
    return "chưa đủ bằng chứng" if result.outcome == MatchOutcome.REVIEW else "không khớp ai"


def _finding_en(result: MatchResult) -> str:
    if result.outcome == MatchOutcome.LINK:
        return f"the record matches Patient/{result.person_id}"
    return "not enough evidence" if result.outcome == MatchOutcome.REVIEW else "it matches nobody"


def _lock_against_twins(incoming: Incoming) -> None:
    """Two systems sending the same new person at once must not both find nobody and both
    register: each takes, to the end of its transaction, a lock on every identifier of the
    record and on its name and birth date, so the second matches what the first wrote."""
    record = incoming.record
    keys = [f"identifier={kind}|{value}" for kind, value in incoming.identifiers]
    if record.full_name:
        born = record.birth_date.isoformat() if record.birth_date else str(record.birth_year)
        keys.append(f"name={name_key(record.full_name)}&birthdate={born}")
    services.lock_criteria(criteria=[("Patient", key) for key in keys])


# --- the REST routes' work -------------------------------------------------------------------


def create_response(request: HttpRequest) -> HttpResponse:
    """`POST /Patient` (with `If-None-Exist`: nothing written if a Patient matches)."""
    who = actor(request, Permission.WRITE_RECORDS)
    body = request_body(request)
    condition = request.headers.get("If-None-Exist")
    if condition:
        query = conditional.criteria(condition)
        conditional.lock([("Patient", query)])
        existing = conditional.existing_for_create("Patient", query)
        if existing is not None:
            return _answer(request, int(existing.logical_id), status=200, outcome="Exists already.")
    return _placed(request, body=body, source=who, person_id=None)


def conditional_update_response(request: HttpRequest) -> HttpResponse:
    """`PUT /Patient?criteria`, as in a transaction Bundle: the one Patient the criteria
    match must be the person the registry matches the record to (as `PUT /Patient/{id}`);
    none matched, the registry places the record (linked, or registered: never an id from
    outside); several, 412."""
    who = actor(request, Permission.WRITE_RECORDS)
    body = request_body(request)
    query = conditional.criteria(request.META.get("QUERY_STRING", ""))
    conditional.lock([("Patient", query)])
    existing = conditional.existing_for_create("Patient", query)
    if existing is not None and isinstance(body, dict):
        _same_id(body, existing.logical_id)
    person_id = int(existing.logical_id) if existing is not None else None
    return _placed(request, body=body, source=who, person_id=person_id)


def _placed(request: HttpRequest, *, body: Any, source: str, person_id: int | None) -> HttpResponse:
    """The registry places a Patient (linked to `person_id` when given, else matched): 201
    when it registered a new person, 200 when it linked the record to one it had."""
    placed, how = accept_patient(
        body=body,
        source=source,
        facility_code=access_of(request).organization,
        person_id=person_id,
        source_ip=access_of(request).source_ip,
    )
    created = how != "linked"
    return _answer(
        request,
        placed,
        status=201 if created else 200,
        outcome="Created." if created else "Linked to the registry's person.",
    )


def _same_id(body: dict[str, Any], logical_id: str) -> None:
    if body.get("id") not in (None, logical_id):
        raise errors.InvalidResource(
            issues=[
                (
                    "Patient.id",
                    errors.Said(
                        f"the body is not Patient/{logical_id}",
                        f"nội dung gửi lên không phải Patient/{logical_id}",
                    ),
                )
            ]
        )


def update_response(request: HttpRequest, logical_id: str) -> HttpResponse:
    """`PUT /Patient/{id}`: the record must be that person's (module doc)."""
    who = actor(request, Permission.WRITE_RECORDS)
    body = request_body(request)
    if not logical_id.isdigit() or not 0 < int(logical_id) <= people.MAX_ID:
        raise errors.resource_not_found("Patient", logical_id[:64])
    if isinstance(body, dict):
        _same_id(body, logical_id)
    person_id, _how = accept_patient(
        body=body,
        source=who,
        facility_code=access_of(request).organization,
        person_id=int(logical_id),
        source_ip=access_of(request).source_ip,
    )
    return _answer(request, person_id, status=200, outcome="Linked to the registry's person.")


def _answer(request: HttpRequest, person_id: int, *, status: int, outcome: str) -> HttpResponse:
    """The registry's Patient with the store's version as ETag; its content only for a
    caller who may read persons (a write right alone learns only where it is)."""
    row = Resource.objects.get(resource_type="Patient", logical_id=str(person_id))
    principal = api_principal(request)
    access = access_of(request)
    readable = people.may(principal, Permission.VIEW_PERSONS) and _may_see(request, person_id)
    note_touched(request, Touched(person_id, row.logical_id, row.version_id))
    if readable:
        patient = people.read_patient_resource(
            principal=principal, person_id=person_id, source_ip=access.source_ip
        )
        response = fhir_response({**patient, "meta": row.body["meta"]}, status=status)
    else:
        response = HttpResponse(status=status)
    response["ETag"] = f'W/"{row.version_id}"'
    response["Last-Modified"] = row.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response["Location"] = request.build_absolute_uri(
        f"/fhir/R4/Patient/{person_id}/_history/{row.version_id}"
    )
    return negotiation.as_preferred(request, response, outcome=outcome)


# --- $match --------------------------------------------------------------------------------


def match_response(request: HttpRequest) -> HttpResponse:
    """`POST /Patient/$match`: a searchset of the registry's candidates for the Patient in
    the Parameters, best first, each with `search.score` (the matcher's probability that it
    is the person) and its PDQm match grade."""
    access = authorize(request, resource_type="Patient", interaction="operation")
    patient, only_certain, count = _match_parameters(request_body(request))
    incoming = incoming_record(
        services.check_resource(body=patient).body, facility_code=access.organization
    )
    result, rendered = people.match_patients(
        principal=api_principal(request), record=incoming.record, source_ip=access.source_ip
    )
    _link, review = people.match_thresholds()
    entries: list[dict[str, Any]] = []
    for candidate in result.candidates:
        body = rendered.get(candidate.person_id)
        if body is None or not _may_see(request, candidate.person_id):
            continue
        grade = _grade(result, candidate.person_id, candidate.match_probability, review)
        if only_certain and grade != "certain":
            continue
        entries.append(
            {
                "fullUrl": request.build_absolute_uri(f"/fhir/R4/Patient/{candidate.person_id}"),
                "resource": body,
                "search": {
                    "mode": "match",
                    "score": round(min(max(candidate.match_probability, 0.0), 1.0), 4),
                    "extension": [{"url": MATCH_GRADE, "valueCode": grade}],
                },
            }
        )
    entries = entries[:count]
    note_touched(request, Touched(None))  # several persons' records: none in particular
    return fhir_response(
        {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
    )


def _may_see(request: HttpRequest, person_id: int) -> bool:
    """Whether consent lets the caller see this person's Patient."""
    try:
        guard_read(request, resource_type="Patient", logical_id=str(person_id), person_id=person_id)
    except NotFound:
        return False
    return True


def _grade(result: MatchResult, person_id: int, probability: float, review: float) -> str:
    """PDQm's grade: certain = the registry would link the record to this person; probable
    = more likely than not; possible = worth a look; else certainly-not."""
    if result.outcome == MatchOutcome.LINK and result.person_id == person_id:
        return "certain"
    if probability >= review:
        return "probable"
    return "possible" if probability >= POSSIBLE_FLOOR else "certainly-not"


def _match_parameters(body: Any) -> tuple[dict[str, Any], bool, int]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise errors.InvalidResource(
            issues=[
                (
                    "Parameters.resourceType",
                    errors.Said("$match takes a Parameters", "$match nhận một Parameters"),
                )
            ]
        )
    patient: dict[str, Any] | None = None
    only_certain, count = False, MATCH_COUNT_MAX
    for parameter in body.get("parameter", []):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if name == "resource":
            patient = parameter.get("resource")
        elif name == "onlyCertainMatches":
            only_certain = parameter.get("valueBoolean") is True
        elif name == "count":
            value = parameter.get("valueInteger")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInput(
                    "match.bad_count",
                    vi="count phải là số nguyên dương.",
                    en="count must be a positive integer.",
                    field="count",
                )
            count = min(value, MATCH_COUNT_MAX)
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise errors.InvalidResource(
            issues=[
                (
                    "Parameters.parameter.resource",
                    errors.Said(
                        "$match needs a Patient in the parameter resource",
                        "$match cần một Patient trong tham số resource",
                    ),
                )
            ]
        )
    return patient, only_certain, count
