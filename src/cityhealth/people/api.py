"""JSON API of the person registry (mounted at /api/people by cityhealth.api). Thin: it checks
the permission, calls a service or selector and shapes the answer.

| endpoint | permission | answers |
|---|---|---|
| `POST /scan` | REGISTER_PERSONS | 201 created, 200 matched; 400 `cccd_qr.*`; 409 |
| `GET ?citizen_id=` | VIEW_PERSONS | 200 with a list of 0 or 1 persons; 400 `citizen_id.*` |
| `GET /search` | VIEW_PERSONS | 200 masked list; 400 `person_search.*` |
| `POST` (the root) | REGISTER_PERSONS | 201; 400 `person.*`; 409 `person.id_claimed_twice` |
| `GET /{id}` | VIEW_PERSONS | 200 (a merged record answers with its survivor); 404 |
| `POST /{id}/reissue` | REGISTER_PERSONS | 200; 404; 409 `person.id_claimed_twice` |
| `POST /match` | REGISTER_PERSONS | 200 link/review/new, 201 registered; 400; 409 |
| `POST /merge` | MERGE_PERSONS | 201 (200 when already merged so); 404; 409 `merge.*` |
| `POST /merges/{id}/undo` | MERGE_PERSONS | 200; 404 `merge.not_found`; 409 `merge.*` |
| `GET /{id}/fhir` | VIEW_PERSONS | 200 FHIR R4 Patient (`application/fhir+json`); 404 |

A caller without the permission gets 401/403 whatever the id, so it learns nothing about which
records exist; a caller with it gets the same `person.not_found` for a missing record and one
it may not see. `409 person.id_claimed_twice` is answered *without* rolling back: the review
item it names (`params.review_item_id`) is kept; nothing else was changed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from ninja import Field, Router, Schema, Status

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.errors import NotFound
from cityhealth.core.identifiers import CccdQr, OldIdKind
from cityhealth.core.problems import domain_error_response
from cityhealth.core.roles import Permission
from cityhealth.people import errors, selectors, services
from cityhealth.people.enums import DatePrecision, MatchOutcome, Relationship, Sex
from cityhealth.people.fhir import person_as_fhir_patient
from cityhealth.people.matching import IncomingRecord
from cityhealth.people.models import Merge, Person

router = Router()

FHIR_CONTENT_TYPE = "application/fhir+json"


class WarningOut(Schema):
    code: str
    message: str


class IdentifierOut(Schema):
    kind: str
    value: str
    issuer: str
    status: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    reason: str


class InsuranceCardOut(Schema):
    code: str
    social_insurance_number: str
    group: str
    benefit_level: int | None
    primary_care_facility: str
    valid_from: dt.date | None
    valid_to: dt.date | None


class RelativeOut(Schema):
    person_id: int
    name: str
    relationship: str


class PersonOut(Schema):
    id: int
    full_name: str
    birth_date: dt.date | None
    birth_year: int | None
    birth_date_precision: DatePrecision
    sex: Sex
    nationality: str
    ward: str | None
    ward_name: str | None
    address: str
    phone: str
    deceased: bool
    deceased_on: dt.date | None
    eid_linked: bool
    merged_into: int | None
    merged_from: list[int]
    identifiers: list[IdentifierOut]
    insurance_cards: list[InsuranceCardOut]
    guardians: list[RelativeOut]
    dependants: list[RelativeOut]


class CardOut(Schema):
    citizen_id: str
    old_id: str | None
    old_id_kind: OldIdKind
    full_name: str
    date_of_birth: dt.date
    sex: str
    address: str
    issue_date: dt.date
    extra_fields: list[str]
    id_consistent: bool
    warnings: list[WarningOut]


class ScanIn(Schema):
    qr: str
    facility_code: str = Field("", max_length=20)


class ScanOut(Schema):
    card: CardOut
    person: PersonOut
    created: bool
    conflict: bool
    review_item_ids: list[int]
    filled: list[str]
    notes: list[str]


class PersonSummaryOut(Schema):
    id: int
    name: str  # masked: "Nguyễn T. M. Anh"
    birth_year: int | None
    sex: str
    ward: str | None
    ward_name: str | None
    deceased: bool


class SearchOut(Schema):
    items: list[PersonSummaryOut]
    more: bool  # more matched than shown: narrow the search


class RegisterIn(Schema):
    full_name: str = Field("", max_length=200)
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    birth_year: int | None = None
    approximate_age: int | None = None
    sex: Sex = Sex.UNKNOWN
    nationality: str = Field("VN", max_length=10)
    citizen_id: str = Field("", max_length=40)
    old_id: str = Field("", max_length=40)
    passport: str = Field("", max_length=40)
    passport_country: str = Field("", max_length=10)
    insurance_code: str = Field("", max_length=40)
    insurance_valid_from: dt.date | None = None
    insurance_valid_to: dt.date | None = None
    primary_care_facility: str = Field("", max_length=10)
    phone: str = Field("", max_length=30)
    ward: str = Field("", max_length=10)
    address: str = Field("", max_length=300)
    guardian_id: int | None = None
    guardian_citizen_id: str = Field("", max_length=40)
    guardian_relationship: Relationship | None = None
    facility_code: str = Field("", max_length=20)


class MatchIn(Schema):
    """A person as another system describes them; every field may be missing or wrong."""

    full_name: str = Field("", max_length=200)
    birth_date: dt.date | None = None
    birth_year: int | None = None
    birth_date_precision: DatePrecision = DatePrecision.DAY
    sex: Sex = Sex.UNKNOWN
    citizen_id: str = Field("", max_length=40)
    social_insurance_number: str = Field("", max_length=40)
    passport: str = Field("", max_length=40)
    nationality: str = Field("", max_length=10)
    phone: str = Field("", max_length=30)
    ward: str = Field("", max_length=10)
    address: str = Field("", max_length=300)
    guardian_citizen_id: str = Field("", max_length=40)
    source_record_id: str = Field("", max_length=32)  # the sender's own id for the record
    facility_code: str = Field("", max_length=20)
    # NEW registers the person at once (a bulk import); otherwise the caller decides.
    register_if_new: bool = False


class CandidateOut(Schema):
    person_id: int
    probability: float
    weight: float  # evidence in bits (log2 Bayes factor)
    reasons: list[str]


class MatchOut(Schema):
    outcome: MatchOutcome
    method: str  # "citizen_id", "guardian_key", "hospital_record", "probabilistic", ...
    person: PersonOut | None  # the linked (or just registered) person
    registered: bool
    review_item_id: int | None
    candidates: list[CandidateOut]


class ReissueIn(Schema):
    citizen_id: str = Field(..., max_length=40)
    reason: str = Field(..., max_length=300)
    issued_on: dt.date | None = None
    facility_code: str = Field("", max_length=20)


class MergeIn(Schema):
    survivor_id: int
    retired_id: int
    reason: str = Field(..., max_length=300)


class MergeOut(Schema):
    id: int
    survivor_id: int
    retired_id: int
    reason: str
    moved: dict[str, Any]
    performed_by: str
    performed_at: dt.datetime
    undone_by: str
    undone_at: dt.datetime | None


# --- shaping -------------------------------------------------------------------------------


def _person_out(person: Person) -> PersonOut:
    return PersonOut(
        id=person.pk,
        full_name=person.full_name,
        birth_date=person.birth_date,
        birth_year=person.birth_year,
        birth_date_precision=DatePrecision(person.birth_date_precision),
        sex=Sex(person.sex),
        nationality=person.nationality,
        ward=person.ward_id,
        ward_name=person.ward.name if person.ward else None,
        address=person.address,
        phone=person.phone,
        deceased=person.deceased,
        deceased_on=person.deceased_on,
        eid_linked=person.eid_linked,
        merged_into=person.merged_into_id,
        merged_from=[p.pk for p in person.merged_from.all()],
        identifiers=[
            IdentifierOut(
                kind=i.kind,
                value=i.value,
                issuer=i.issuer,
                status=i.status,
                valid_from=i.valid_from,
                valid_to=i.valid_to,
                reason=i.reason,
            )
            for i in person.identifiers.all()
        ],
        insurance_cards=[
            InsuranceCardOut(
                code=c.code,
                social_insurance_number=c.social_insurance_number,
                group=c.group,
                benefit_level=c.benefit_level,
                primary_care_facility=c.primary_care_facility,
                valid_from=c.valid_from,
                valid_to=c.valid_to,
            )
            for c in person.insurance_cards.all()
        ],
        guardians=[
            RelativeOut(
                person_id=link.guardian_id,
                name=link.guardian.full_name,
                relationship=link.relationship,
            )
            for link in person.guardians.all()
        ],
        dependants=[
            RelativeOut(
                person_id=link.child_id, name=link.child.full_name, relationship=link.relationship
            )
            for link in person.wards_of.all()
        ],
    )


def _card_out(card: CccdQr) -> CardOut:
    language = translation.get_language()
    return CardOut(
        citizen_id=card.citizen_id.number,
        old_id=card.old_id,
        old_id_kind=card.old_id_kind,
        full_name=card.full_name,
        date_of_birth=card.date_of_birth,
        sex=str(card.sex),
        address=card.address,
        issue_date=card.issue_date,
        extra_fields=list(card.extra_fields),
        id_consistent=card.id_consistent,
        warnings=[WarningOut(code=w.code, message=w.message(language)) for w in card.warnings],
    )


def _merge_out(merge: Merge) -> MergeOut:
    return MergeOut(
        id=merge.pk,
        survivor_id=merge.survivor_id,
        retired_id=merge.retired_id,
        reason=merge.reason,
        moved=merge.moved,
        performed_by=merge.performed_by,
        performed_at=merge.performed_at,
        undone_by=merge.undone_by,
        undone_at=merge.undone_at,
    )


def _ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _kept(request: HttpRequest, error: errors.IdClaimedTwice) -> HttpResponse:
    """409 problem+json that does not roll the request back: the review item stays."""
    return domain_error_response(request, error)


def _details(person: Person) -> Person:
    """The same person with everything `PersonOut` shows, fetched in a few queries."""
    return selectors.with_details(Person.objects.filter(pk=person.pk)).get()


# --- endpoints -----------------------------------------------------------------------------


@router.post(
    "/scan",
    response={200: ScanOut, 201: ScanOut},
    summary="Identify or register the holder of a chip ID card from its QR text",
)
def scan_card(request: HttpRequest, payload: ScanIn) -> Status[ScanOut] | HttpResponse:
    """201 when the person was created, 200 when found. A card that disagrees with the
    registry is never written over: `conflict` is true and `review_item_ids` names the item
    that keeps both versions. 400 `cccd_qr.*` for text that is not a card's."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.REGISTER_PERSONS)
    try:
        result = services.register_from_scan(
            qr=payload.qr,
            actor=actor_of(principal),
            facility_code=payload.facility_code,
            source_ip=_ip(request),
        )
    except errors.IdClaimedTwice as error:
        return _kept(request, error)
    body = ScanOut(
        card=_card_out(result.card),
        person=_person_out(_details(result.person)),
        created=result.created,
        conflict=result.conflict,
        review_item_ids=[item.pk for item in result.review_items],
        filled=list(result.filled),
        notes=list(result.notes),
    )
    return Status(201 if result.created else 200, body)


@router.get("", response=list[PersonOut], summary="Look a person up by a 12-digit ID number")
def lookup_person(request: HttpRequest, citizen_id: str) -> list[PersonOut]:
    """A list of 0 or 1 persons: the one holding the number now or before a re-issue."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.VIEW_PERSONS)
    person = selectors.lookup_by_citizen_id(
        principal=principal, citizen_id=citizen_id, source_ip=_ip(request)
    )
    return [_person_out(_details(person))] if person else []


@router.get("/search", response=SearchOut, summary="Search persons by name, birth year, ...")
def search_persons(
    request: HttpRequest,
    q: str = "",
    birth_year: int | None = None,
    birth_date: dt.date | None = None,
    ward: str = "",
    phone: str = "",
    limit: int = 20,
) -> SearchOut:
    """Names match without regard to case, diacritics or Võ/Vũ, Huỳnh/Hoàng; the end of the
    name may be left off. Names in the answer are masked; read one person for the details."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.VIEW_PERSONS)
    result = selectors.search_persons(
        principal=principal,
        q=q,
        birth_year=birth_year,
        birth_date=birth_date,
        ward=ward,
        phone=phone,
        limit=limit,
        source_ip=_ip(request),
    )
    return SearchOut(
        items=[PersonSummaryOut(**vars(item)) for item in result.items], more=result.more
    )


@router.post("", response={201: PersonOut}, summary="Register a person at a desk")
def register_person(request: HttpRequest, payload: RegisterIn) -> Status[PersonOut] | HttpResponse:
    principal = api_principal(request)
    ensure_permission(principal, Permission.REGISTER_PERSONS)
    guardian = _guardian(principal, payload, _ip(request))
    try:
        registration = services.register_person(
            actor=actor_of(principal),
            full_name=payload.full_name,
            birth_date=payload.birth_date,
            birth_date_precision=payload.birth_date_precision,
            birth_year=payload.birth_year,
            approximate_age=payload.approximate_age,
            sex=payload.sex,
            nationality=payload.nationality,
            citizen_id=payload.citizen_id,
            old_id=payload.old_id,
            passport=payload.passport,
            passport_country=payload.passport_country,
            insurance_code=payload.insurance_code,
            insurance_valid_from=payload.insurance_valid_from,
            insurance_valid_to=payload.insurance_valid_to,
            primary_care_facility=payload.primary_care_facility,
            phone=payload.phone,
            ward_code=payload.ward,
            address=payload.address,
            guardian=guardian,
            guardian_relationship=payload.guardian_relationship or "",
            facility_code=payload.facility_code,
            source_ip=_ip(request),
        )
    except errors.IdClaimedTwice as error:
        return _kept(request, error)
    return Status(201, _person_out(_details(registration.person)))


def _guardian(principal: object, payload: RegisterIn, source_ip: str) -> Person | None:
    try:
        if payload.guardian_id is not None:
            return selectors.access_person(
                principal=principal,
                person_id=payload.guardian_id,
                reason="guardian of a new registration",
                source_ip=source_ip,
            )
        if payload.guardian_citizen_id.strip():
            found = selectors.lookup_by_citizen_id(
                principal=principal,
                citizen_id=payload.guardian_citizen_id,
                reason="guardian of a new registration",
                source_ip=source_ip,
            )
            if found is None:
                raise errors.person_not_found()
            return found
    except NotFound:
        raise errors.invalid(
            "person.guardian_not_found",
            vi="Không tìm thấy người giám hộ đã ghi.",
            en="The guardian given was not found.",
            field="guardian",
        ) from None
    return None


@router.post(
    "/match",
    response={200: MatchOut, 201: MatchOut},
    summary="Find the person a record from another system belongs to: link, review or new",
)
def match_record(request: HttpRequest, payload: MatchIn) -> Status[MatchOut] | HttpResponse:
    """200 with `outcome` link (and the person), review (a review item keeps the record and
    the candidates) or new; 201 when `register_if_new` registered the person."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.REGISTER_PERSONS)
    if payload.birth_year is not None:
        selectors.check_birth_year(payload.birth_year)
    record = IncomingRecord(
        full_name=payload.full_name,
        birth_date=payload.birth_date,
        birth_year=payload.birth_date.year if payload.birth_date else payload.birth_year,
        birth_date_precision=payload.birth_date_precision,
        sex="" if payload.sex == Sex.UNKNOWN else str(payload.sex),
        citizen_id=payload.citizen_id,
        social_insurance_number=payload.social_insurance_number,
        passport=payload.passport.strip().upper(),
        nationality=payload.nationality.strip().upper(),
        phone=selectors.normalise_phone(payload.phone),
        ward_code=payload.ward.strip(),
        address=payload.address,
        guardian_citizen_id=payload.guardian_citizen_id,
        source_record_id=payload.source_record_id.strip(),
    )
    actor = actor_of(principal)
    found = services.match_incoming_record(
        record=record, actor=actor, facility_code=payload.facility_code, source_ip=_ip(request)
    )
    person = found.person
    registered = False
    if found.result.outcome == MatchOutcome.NEW and payload.register_if_new:
        try:
            person = services.register_incoming_record(
                record=record,
                actor=actor,
                facility_code=payload.facility_code,
                source_ip=_ip(request),
            )
        except errors.IdClaimedTwice as error:
            return _kept(request, error)
        registered = True
    body = MatchOut(
        outcome=found.result.outcome,
        method=found.result.method,
        person=_person_out(_details(person)) if person is not None else None,
        registered=registered,
        review_item_id=found.review_item.pk if found.review_item is not None else None,
        candidates=[
            CandidateOut(
                person_id=c.person_id,
                probability=round(c.match_probability, 6),
                weight=round(c.match_weight, 2),
                reasons=list(c.reasons),
            )
            for c in found.result.candidates
        ],
    )
    return Status(201 if registered else 200, body)


@router.post(
    "/merge", response={200: MergeOut, 201: MergeOut}, summary="Merge two records of one human"
)
def merge_persons(request: HttpRequest, payload: MergeIn) -> Status[MergeOut]:
    principal = api_principal(request)
    ensure_permission(principal, Permission.MERGE_PERSONS)
    survivor = selectors.find_person(
        principal=principal, person_id=payload.survivor_id, permission=Permission.MERGE_PERSONS
    )
    retired = selectors.find_person(
        principal=principal, person_id=payload.retired_id, permission=Permission.MERGE_PERSONS
    )
    already = retired.merged_into_id == survivor.pk
    merge = services.merge_persons(
        survivor=survivor,
        retired=retired,
        reason=payload.reason,
        actor=actor_of(principal),
        source_ip=_ip(request),
    )
    return Status(200 if already else 201, _merge_out(merge))


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge")
def undo_merge(request: HttpRequest, merge_id: int) -> MergeOut:
    principal = api_principal(request)
    ensure_permission(principal, Permission.MERGE_PERSONS)
    merge = services.unmerge(
        merge=selectors.get_merge(merge_id),
        actor=actor_of(principal),
        source_ip=_ip(request),
    )
    return _merge_out(merge)


@router.get("/{person_id}", response=PersonOut, summary="Get a person")
def get_person(request: HttpRequest, person_id: int, reason: str = "") -> PersonOut:
    """A merged record answers with the survivor it was merged into (compare the `id`)."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.VIEW_PERSONS)
    person = selectors.access_person(
        principal=principal, person_id=person_id, reason=reason[:300], source_ip=_ip(request)
    )
    return _person_out(person)


@router.post("/{person_id}/reissue", response=PersonOut, summary="Record a re-issued ID number")
def reissue_citizen_id(
    request: HttpRequest, person_id: int, payload: ReissueIn
) -> PersonOut | HttpResponse:
    """The current 12-digit ID becomes cancelled, the new one current. Sending the same new
    number again is answered 200 and changes nothing."""
    principal = api_principal(request)
    ensure_permission(principal, Permission.REGISTER_PERSONS)
    person = selectors.find_person(
        principal=principal, person_id=person_id, permission=Permission.VIEW_PERSONS
    )
    try:
        services.record_id_reissue(
            person=person,
            new_citizen_id=payload.citizen_id,
            reason=payload.reason,
            actor=actor_of(principal),
            issued_on=payload.issued_on,
            facility_code=payload.facility_code,
            source_ip=_ip(request),
        )
    except errors.IdClaimedTwice as error:
        return _kept(request, error)
    return _person_out(_details(person))


@router.get("/{person_id}/fhir", summary="A person as a FHIR R4 Patient")
def get_person_fhir(request: HttpRequest, person_id: int) -> HttpResponse:
    principal = api_principal(request)
    ensure_permission(principal, Permission.VIEW_PERSONS)
    person = selectors.access_person(
        principal=principal, person_id=person_id, reason="FHIR Patient", source_ip=_ip(request)
    )
    return HttpResponse(
        json.dumps(person_as_fhir_patient(person), ensure_ascii=False),
        content_type=FHIR_CONTENT_TYPE,
    )
