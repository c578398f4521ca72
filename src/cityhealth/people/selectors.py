"""Reads of the person registry for pages, APIs and other apps.

Every read of a person's data checks the caller's right to it and writes an audit entry; a
person that does not exist and one the caller may not see give the same `person.not_found`.

Search uses the stored name key (`names.name_key`: folded, Võ→Vũ, Huỳnh→Hoàng), equality on
birth year and a prefix on the key, so it is served by the `(search_text, birth_year)` index
(on PostgreSQL also by the `varchar_pattern_ops` index of migration 0002).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cityhealth.accounts.selectors import actor_label_of, actor_of, resident_of
from cityhealth.core import clock
from cityhealth.core.access import ensure_permission
from cityhealth.core.audit import record_audit
from cityhealth.core.errors import NotFound
from cityhealth.core.identifiers import parse_citizen_id
from cityhealth.core.names import name_key
from cityhealth.core.phones import national_form
from cityhealth.core.roles import Permission
from cityhealth.geo.selectors import get_ward
from cityhealth.people import errors
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.matching.engine import match_record
from cityhealth.people.matching.model import current_model
from cityhealth.people.matching.types import IncomingRecord, MatchResult
from cityhealth.people.models import (
    Guardianship,
    Merge,
    Person,
    PersonIdentifier,
    ReviewItem,
)

MAX_ID = 2**63 - 1  # a primary key beyond this cannot exist (and would overflow a bigint)
SEARCH_LIMIT_MAX = 100
# Prefix matches are taken from a bounded window of the index before they are ordered, so a
# very short prefix ("nguyen") costs a few hundred index entries, not millions of rows.
PREFIX_WINDOW = 500
_PHONE = re.compile(r"0[0-9]{9,10}")
_WARD_CODE = re.compile(r"[0-9]{5}")
_FACILITY = re.compile(r"[A-Za-z0-9._\-]{1,20}")


# --- who is asking -----------------------------------------------------------------------


def may(principal: object, permission: Permission) -> bool:
    if principal is None or not getattr(principal, "is_authenticated", True):
        return False
    checker = getattr(principal, "has_permission", None)
    return bool(checker is not None and checker(permission))


# --- small validators shared with the services ---------------------------------------------


def normalise_phone(text: str) -> str:
    """Digits of a Vietnamese phone number, "0912345678"; "" for blank; InvalidInput else."""
    digits = national_form(text)
    if not digits:
        return ""
    if not _PHONE.fullmatch(digits):
        raise errors.invalid(
            "person.bad_phone",
            vi="Số điện thoại phải gồm 10 hoặc 11 chữ số, bắt đầu bằng 0 (hoặc +84).",
            en="A phone number is 10 or 11 digits starting with 0 (or +84).",
            field="phone",
        )
    return digits


def check_birth_year(year: int, *, field: str = "birth_year") -> int:
    if not 1900 <= year <= clock.today().year:
        raise errors.invalid(
            "person.bad_birth_year",
            vi=f"Năm sinh phải từ 1900 đến {clock.today().year}.",
            en=f"The birth year must be between 1900 and {clock.today().year}.",
            field=field,
        )
    return year


def check_facility_code(code: str) -> str:
    """A facility code as the audit log keeps it (letters, digits, "-", "_", "."; ≤ 20)."""
    code = (code or "").strip()
    if code and not _FACILITY.fullmatch(code):
        raise errors.invalid(
            "person.bad_facility_code",
            vi="Mã cơ sở y tế chỉ gồm chữ, số và dấu gạch, tối đa 20 ký tự.",
            en="A facility code is letters, digits and dashes, at most 20 characters.",
            field="facility_code",
        )
    return code


def clean_text(text: str, *, max_length: int) -> str:
    """Text as typed, NFC, single spaces, without control characters, cut to `max_length`."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    return " ".join(text.split())[:max_length]


# --- one person ----------------------------------------------------------------------------


def birth_text(person: Person) -> str | None:
    """The date of birth at its precision: "1950", "1950-07" or "1950-07-12"."""
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.DAY:
        return person.birth_date.isoformat()
    if person.birth_date is not None and person.birth_date_precision == DatePrecision.MONTH:
        return person.birth_date.isoformat()[:7]
    return str(person.birth_year) if person.birth_year else None


def with_details(persons: QuerySet[Person]) -> QuerySet[Person]:
    return persons.select_related("ward", "ward__province", "merged_into").prefetch_related(
        Prefetch(
            "identifiers",
            queryset=PersonIdentifier.objects.order_by("kind", "status", "-valid_from", "-id"),
        ),
        "insurance_cards",
        Prefetch("guardians", queryset=Guardianship.objects.select_related("guardian")),
        Prefetch("wards_of", queryset=Guardianship.objects.select_related("child")),
        Prefetch("merged_from", queryset=Person.objects.order_by("id")),
    )


def survivor_of(person: Person) -> Person:
    """The record a person was (perhaps repeatedly) merged into; the person itself if none."""
    seen = {person.pk}
    while person.merged_into_id is not None and person.merged_into_id not in seen:
        seen.add(person.merged_into_id)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def merged_family(survivor: int) -> list[int]:
    """The survivor and every person merged into it, however many merges deep."""
    family = [survivor]
    frontier = [survivor]
    while frontier:
        frontier = list(
            Person.objects.filter(merged_into__in=frontier)
            .exclude(pk__in=family)
            .values_list("pk", flat=True)
        )
        family.extend(frontier)
    return family


def family_of(person_id: int) -> list[int]:
    """Everyone whose records answer for the same human as `person_id`: the survivor of any
    merge it went through and every person merged into that survivor ([person_id] alone for
    an id the registry does not have)."""
    person = Person.objects.filter(pk=person_id).only("pk", "merged_into").first()
    return [person_id] if person is None else merged_family(int(survivor_of(person).pk))


def find_person(*, principal: object, person_id: int, permission: Permission) -> Person:
    """A person to change (not followed to a survivor, not audited: the write audits itself).

    `person.not_found` when it does not exist or the caller lacks `permission`.
    """
    if not may(principal, permission) or not 0 < person_id <= MAX_ID:
        raise errors.person_not_found()
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise errors.person_not_found()
    return person


def access_person(
    *,
    principal: object,
    person_id: int,
    reason: str = "",
    source_ip: str = "",
    facility_code: str = "",
    own: bool = False,
) -> Person:
    """One person with identifiers, cards and guardians, for someone holding VIEW_PERSONS
    (or, with `own`, for a resident reading the person their client is bound to, and no
    other).

    A merged record answers with the survivor it was merged into. Writes a `person.read`
    audit entry. `person.not_found` for a missing person and for a caller without the right.
    """
    resident = resident_of(principal) if own else None
    allowed = resident is not None or may(principal, Permission.VIEW_PERSONS)
    if not allowed or not 0 < person_id <= MAX_ID:
        raise errors.person_not_found()
    found = Person.objects.filter(pk=person_id).first()
    if found is None:
        raise errors.person_not_found()
    survivor = survivor_of(found)
    if resident is not None and not _is_resident(survivor, resident):
        raise errors.person_not_found()  # another's record: as if there were none
    person = with_details(Person.objects.filter(pk=survivor.pk)).get()
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.read",
        target_type="person",
        target_id=person.pk,
        facility_code=check_facility_code(facility_code),
        reason=clean_text(reason, max_length=300),
        source_ip=source_ip,
        details={"requested_id": person_id} if person.pk != person_id else None,
    )
    return person


def read_patient_resource(
    *, principal: object, person_id: int, source_ip: str = ""
) -> dict[str, Any]:
    """The person as a FHIR R4 Patient (the shared record's Patient is the registry's person),
    read as `access_person` reads it: audited, the survivor of a merge, not found without the
    right to see persons; a resident reads their own Patient (only theirs)."""
    from cityhealth.people.fhir import person_as_fhir_patient

    person = access_person(
        principal=principal,
        person_id=person_id,
        reason="FHIR Patient read",
        source_ip=source_ip,
        own=True,
    )
    return person_as_fhir_patient(person)


def _is_resident(survivor: Person, resident_id: int) -> bool:
    """Whether `survivor` is the resident's person (or what it was merged into)."""
    if survivor.pk == resident_id:
        return True
    bound = Person.objects.filter(pk=resident_id).first()
    return bound is not None and survivor_of(bound).pk == survivor.pk


def patient_resources(*, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Persons (merged-away ones too, as they are) as FHIR R4 Patients, for the shared
    record's copy of the registry. Not a read on anyone's behalf, so neither checked nor
    audited here: whoever reads the copy is checked and audited there."""
    from cityhealth.people.fhir import person_as_fhir_patient

    # Only what the rendering reads (a sync renders millions): no children, no whole
    # guardians or merged records.
    persons = (
        Person.objects.filter(pk__in=person_ids)
        .select_related("ward", "ward__province")
        .prefetch_related(
            "identifiers",
            "insurance_cards",
            Prefetch(
                "guardians",
                queryset=Guardianship.objects.select_related("guardian").only(
                    "child_id", "relationship", "guardian__full_name"
                ),
            ),
            Prefetch("merged_from", queryset=Person.objects.only("id", "merged_into_id")),
        )
        .order_by("pk")
    )
    return {person.pk: person_as_fhir_patient(person) for person in persons}


def match_patients(
    *, principal: object, record: IncomingRecord, source_ip: str = ""
) -> tuple[MatchResult, dict[int, dict[str, Any]]]:
    """The matcher's verdict on `record` (an `IncomingRecord`) and its candidates as FHIR
    Patients, for someone holding VIEW_PERSONS; nothing is written but a `person.match_query`
    audit entry naming the candidates shown. (MatchResult, {person id: Patient})."""
    ensure_permission(principal, Permission.VIEW_PERSONS)
    result = match_record(record=record)
    wanted = [candidate.person_id for candidate in result.candidates]
    found = patient_resources(person_ids=wanted)
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.match_query",
        target_type="person",
        source_ip=source_ip,
        details={"outcome": str(result.outcome), "result_ids": wanted},
    )
    return result, found


def match_thresholds() -> tuple[float, float]:
    """The matcher's (link, review) probability thresholds in force."""
    model = current_model()
    return model.link_threshold, model.review_threshold


# The hot path of every kiosk and desk: written as SQL because compiling the equivalent
# queryset (a join with select_related) costs the ORM more than the database takes to answer.
_HOLDERS_SQL = (
    "SELECT p.*, i.status = %s AS held_now"
    " FROM people_identifiers i JOIN people_persons p ON p.id = i.person_id"
    " WHERE i.kind = %s AND i.issuer = %s AND i.value = %s AND i.status <> %s"
    " ORDER BY i.id"
)


def holders_of(kind: str, value: str, *, issuer: str = "") -> list[tuple[Person, bool]]:
    """Distinct current records holding an identifier now (True) or earlier (False), the
    active holder first. Records merged away are replaced by their survivor."""
    rows = Person.objects.raw(
        _HOLDERS_SQL,
        [IdentifierStatus.ACTIVE, kind, issuer, value, IdentifierStatus.RETIRED],
    )
    # `held_now` is the extra column of the query, set on each instance by raw().
    ranked = sorted(((row, bool(row.__dict__["held_now"])) for row in rows), key=lambda r: not r[1])
    holders: dict[int, tuple[Person, bool]] = {}
    for row, held_now in ranked:
        person = survivor_of(row)
        holders.setdefault(person.pk, (person, held_now))
    return list(holders.values())


def lookup_by_citizen_id(
    *,
    principal: object,
    citizen_id: str,
    reason: str = "",
    source_ip: str = "",
    facility_code: str = "",
    permission: Permission = Permission.VIEW_PERSONS,
) -> Person | None:
    """The person holding a 12-digit ID now, or holding it before it was re-issued.
    `permission` is what entitles the caller to the lookup (reception's CHECK_IN: a kiosk
    finds the card's holder without the right to browse the registry).

    Malformed numbers raise `InvalidInput` (from `parse_citizen_id`). None when nobody holds
    it or the caller lacks VIEW_PERSONS (the two look the same). The person comes with its
    ward, not its identifiers and relatives: a kiosk needs no more, and a caller that shows
    the whole record passes it through `with_details`. If several records only
    *held* the number earlier, `person.citizen_id_ambiguous`. Audited either way.
    """
    number = parse_citizen_id(citizen_id).number
    allowed = may(principal, permission)
    person: Person | None = None
    if allowed:
        holders = holders_of(IdentifierKind.CITIZEN_ID, number)
        if len(holders) > 1 and not holders[0][1]:
            raise errors.citizen_id_ambiguous()
        if holders:
            person = holders[0][0]
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.read" if person else "person.lookup",
        target_type="person",
        target_id=person.pk if person else "",
        facility_code=check_facility_code(facility_code),
        reason=clean_text(reason, max_length=300),
        source_ip=source_ip,
        details={"via": "citizen_id", "citizen_id": number, "found": person is not None},
    )
    return person


# --- search --------------------------------------------------------------------------------


def mask_name(full_name: str) -> str:
    """Family and given name in full, middle names as initials: "Nguyễn T. M. Anh"."""
    words = full_name.split()
    if len(words) <= 2:
        return " ".join(words)
    middle = " ".join(f"{word[:1]}." for word in words[1:-1])
    return f"{words[0]} {middle} {words[-1]}"


@dataclass(frozen=True)
class PersonSummary:
    """What a list shows of a person: masked name, birth year, sex, ward."""

    id: int
    name: str
    birth_year: int | None
    sex: str
    ward: str | None
    ward_name: str | None
    deceased: bool


@dataclass(frozen=True)
class SearchResult:
    items: list[PersonSummary]
    more: bool  # there were more matches than shown: add the birth year or more of the name


def summarise(person: Person) -> PersonSummary:
    return PersonSummary(
        id=person.pk,
        name=mask_name(person.full_name),
        birth_year=person.birth_year,
        sex=person.sex,
        ward=person.ward_id,
        ward_name=person.ward.name if person.ward else None,
        deceased=person.deceased,
    )


def _prefix(key: str) -> Q:
    condition = Q(search_text__startswith=key)
    if connection.vendor == "sqlite":
        # SQLite's LIKE ignores case and so cannot use a binary index; the same prefix as a
        # range can. (Keys are lower case, so the two conditions agree.)
        condition &= Q(search_text__gte=key, search_text__lt=key + "\U0010ffff")
    return condition


def search_persons(
    *,
    principal: object,
    q: str = "",
    birth_year: int | None = None,
    birth_date: dt.date | None = None,
    ward: str | None = None,
    phone: str = "",
    limit: int = 20,
    source_ip: str = "",
    facility_code: str = "",
) -> SearchResult:
    """Current (not merged-away) persons matching every criterion given, masked for a list.

    `q` is matched on the name key, so case, diacritics and Võ/Vũ, Huỳnh/Hoàng do not
    matter: exact key matches come first (by birth year), then keys that start with it (by
    name). At least one criterion is needed. One `person.search` audit entry per search.
    """
    # No record to hide here: a caller without the right is told so (401/403).
    ensure_permission(principal, Permission.VIEW_PERSONS)
    key = name_key(clean_text(q, max_length=200))
    phone_digits = normalise_phone(phone)
    ward_code = (ward or "").strip()
    if ward_code and not _WARD_CODE.fullmatch(ward_code):
        raise errors.invalid(
            "person_search.bad_ward",
            vi="Mã phường/xã gồm 5 chữ số.",
            en="A ward code is 5 digits.",
            field="ward",
        )
    if birth_year is not None:
        check_birth_year(birth_year)
    if birth_date is not None:
        if birth_year is not None and birth_year != birth_date.year:
            raise errors.invalid(
                "person_search.year_date_disagree",
                vi="Năm sinh và ngày sinh không khớp nhau.",
                en="The birth year and the date of birth disagree.",
                field="birth_year",
            )
        # The year narrows first: the (name key, birth year) index then serves the query.
        birth_year = birth_date.year
    if not (key or birth_year is not None or birth_date or ward_code or phone_digits):
        raise errors.search_no_criteria()
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))

    base = Person.objects.filter(merged_into__isnull=True)
    if birth_year is not None:
        base = base.filter(birth_year=birth_year)
    if birth_date is not None:
        base = base.filter(birth_date=birth_date)
    if ward_code:
        base = base.filter(ward_id=ward_code)
    if phone_digits:
        base = base.filter(phone=phone_digits)

    rows: list[Person] = []
    if key:
        rows = list(
            base.filter(search_text=key)
            .select_related("ward")
            .order_by("birth_year", "id")[: limit + 1]
        )
        if len(rows) <= limit:
            window = base.filter(_prefix(key)).exclude(search_text=key).values("id")
            rows += list(
                Person.objects.filter(id__in=window[:PREFIX_WINDOW])
                .select_related("ward")
                .order_by("search_text", "birth_year", "id")[: limit + 1 - len(rows)]
            )
    else:
        window = base.values("id")[:PREFIX_WINDOW]
        rows = list(
            Person.objects.filter(id__in=window)
            .select_related("ward")
            .order_by("search_text", "birth_year", "id")[: limit + 1]
        )
    more = len(rows) > limit
    items = [summarise(person) for person in rows[:limit]]
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.search",
        target_type="person",
        facility_code=facility_code,
        source_ip=source_ip,
        details={
            "criteria": {
                "q": key,
                "birth_year": birth_year,
                "birth_date": birth_date.isoformat() if birth_date else None,
                "ward": ward_code,
                "phone": phone_digits,
            },
            "result_ids": [item.id for item in items],
            "more": more,
        },
    )
    return SearchResult(items=items, more=more)


# --- review queue and merges ---------------------------------------------------------------


def review_queue(
    *,
    principal: object,
    kind: str = "",
    limit: int = 25,
    offset: int = 0,
    source_ip: str = "",
) -> tuple[list[ReviewItem], int]:
    """Open review items, oldest first, with the persons they concern; and how many are open.

    Needs REVIEW_PERSONS. The persons shown are audited as one `person.review_queue` entry.
    """
    ensure_permission(principal, Permission.REVIEW_PERSONS)
    items = ReviewItem.objects.filter(status=ReviewStatus.OPEN)
    if kind:
        items = items.filter(kind=kind)
    total = items.count()
    shown = list(
        items.select_related(
            "person", "person__ward", "person__merged_into", "other_person", "other_person__ward"
        ).order_by("created_at", "id")[offset : offset + max(1, min(limit, 100))]
    )
    person_ids = sorted(
        {p for item in shown for p in (item.person_id, item.other_person_id) if p is not None}
    )
    record_audit(
        actor=actor_of(principal),
        actor_label=actor_label_of(principal),
        action="person.review_queue",
        target_type="person",
        source_ip=source_ip,
        details={"item_ids": [item.pk for item in shown], "person_ids": person_ids},
    )
    return shown, total


def get_review_item(item_id: int) -> ReviewItem:
    if not 0 < item_id <= MAX_ID:
        raise errors.review_item_not_found()
    item = ReviewItem.objects.select_related("person", "other_person").filter(pk=item_id).first()
    if item is None:
        raise errors.review_item_not_found()
    return item


def get_merge(merge_id: int) -> Merge:
    if not 0 < merge_id <= MAX_ID:
        raise errors.merge_not_found()
    merge = Merge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise errors.merge_not_found()
    return merge


def merges_of(person: Person) -> list[Merge]:
    """Merges a person took part in, newest first (for the person page)."""
    return list(
        Merge.objects.filter(Q(survivor=person) | Q(retired=person)).order_by("-performed_at")
    )


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    left: str
    right: str
    others: tuple[str, ...] = ()  # further candidates of an incoming record, if any

    @property
    def differs(self) -> bool:
        return self.left != self.right


@dataclass(frozen=True)
class ReviewView:
    """An open review item as the queue shows it: two versions side by side."""

    item: ReviewItem
    left_title: str
    right_title: str
    left_person: Person | None
    right_person: Person | None
    rows: list[ComparisonRow]
    warnings: list[str]
    candidates: list[CandidateColumn] = field(default_factory=list)


@dataclass(frozen=True)
class CandidateColumn:
    """A person the matcher proposed for an incoming record, with its probability."""

    person: Person
    probability: float
    reasons: list[str]


_FIELD_LABELS = {
    "full_name": _("Full name"),
    "birth_date": _("Date of birth"),
    "birth_year": _("Birth year"),
    "sex": _("Sex"),
    "citizen_id": _("Personal ID number"),
    "ward": _("Ward or commune"),
    "identifiers": _("Identifiers"),
}


def _label(name: str) -> str:
    return str(_FIELD_LABELS.get(name, name))


def _sex_label(value: object) -> str:
    try:
        return str(Sex(str(value)).label)
    except ValueError:
        return str(value or "")


def _person_facts(person: Person) -> dict[str, str]:
    numbers = person.identifiers.filter(
        kind=IdentifierKind.CITIZEN_ID, status=IdentifierStatus.ACTIVE
    ).values_list("value", flat=True)
    return {
        "full_name": person.full_name,
        "birth_date": birth_text(person) or "",
        "sex": _sex_label(person.sex),
        "citizen_id": ", ".join(numbers),
        "ward": person.ward.name if person.ward else "",
    }


_COMPARED = ("full_name", "birth_date", "sex", "citizen_id", "ward")


def _incoming_facts(record: dict[str, Any]) -> dict[str, str]:
    ward_code = str(record.get("ward_code") or "")
    return {
        "full_name": str(record.get("full_name") or ""),
        "birth_date": str(record.get("birth_date") or record.get("birth_year") or ""),
        "sex": _sex_label(record.get("sex")),
        "citizen_id": str(record.get("citizen_id") or record.get("guardian_citizen_id") or ""),
        "ward": _ward_name(ward_code),
    }


def _ward_name(code: str) -> str:
    try:
        return get_ward(code).name if code else ""
    except NotFound:
        return code


def _match_review_view(item: ReviewItem) -> ReviewView:
    """An incoming record beside every candidate the matcher proposed, best first."""
    payload = item.payload or {}
    offered = payload.get("candidates", [])
    persons = {
        p.pk: survivor_of(p)
        for p in Person.objects.filter(pk__in=[c["person_id"] for c in offered]).select_related(
            "ward", "merged_into"
        )
    }
    columns = [
        CandidateColumn(persons[c["person_id"]], float(c["probability"]), list(c["reasons"]))
        for c in offered
        if c["person_id"] in persons
    ]
    incoming = _incoming_facts(payload.get("record", {}))
    facts = [_person_facts(column.person) for column in columns]
    rows = [
        ComparisonRow(
            _label(name),
            incoming.get(name, ""),
            facts[0].get(name, "") if facts else "",
            tuple(f.get(name, "") for f in facts[1:]),
        )
        for name in _COMPARED
    ]
    record = payload.get("record", {})
    source = " · ".join(
        str(v) for v in (payload.get("facility_code"), record.get("source_record_id")) if v
    )
    warnings = [source] if source else []
    return ReviewView(
        item, str(_("Incoming record")), "", None, None, rows, warnings, candidates=columns
    )


def review_view(item: ReviewItem) -> ReviewView:
    """Both versions an item is about, field by field, for the reviewer to compare."""
    payload = item.payload or {}
    if item.kind == ReviewKind.MATCH_REVIEW:
        return _match_review_view(item)
    language = get_language()
    warnings: list[str] = []
    if item.kind == ReviewKind.SCAN_CONFLICT:
        registry = payload.get("registry", {})
        scanned = payload.get("scanned", {})
        fields = payload.get("fields", [])
        rows = [
            ComparisonRow(
                _label(name),
                _sex_label(registry.get(name)) if name == "sex" else str(registry.get(name) or ""),
                _sex_label(scanned.get(name)) if name == "sex" else str(scanned.get(name) or ""),
            )
            for name in fields
        ]
        return ReviewView(
            item, str(_("In the registry")), str(_("On the card")), item.person, None, rows, []
        )
    if item.kind == ReviewKind.ID_INCONSISTENT:
        given = payload.get("given", {})
        warnings = [
            str(w.get("en") if language and language.startswith("en") else w.get("vi"))
            for w in payload.get("warnings", [])
        ]
        digits = parse_citizen_id(payload["citizen_id"]) if payload.get("citizen_id") else None
        rows = [
            ComparisonRow(
                _label("birth_year"),
                str(given.get("birth_date") or given.get("birth_year") or ""),
                str(digits.birth_year) if digits else "",
            ),
            ComparisonRow(
                _label("sex"),
                _sex_label(given.get("sex")),
                _sex_label(digits.sex.value) if digits else "",
            ),
        ]
        return ReviewView(
            item,
            str(_("Given")),
            str(_("Encoded in the ID number")),
            item.person,
            None,
            rows,
            warnings,
        )
    left = _person_facts(item.person) if item.person else {}
    if item.other_person is not None:
        right = _person_facts(item.other_person)
        right_title = str(_("Other record"))
    else:
        submitted = payload.get("submitted", {})
        right = {
            "full_name": str(submitted.get("full_name") or ""),
            "birth_date": str(submitted.get("birth_date") or submitted.get("birth_year") or ""),
            "sex": _sex_label(submitted.get("sex")),
            "citizen_id": str(
                submitted.get("citizen_id") or payload.get("identifier", {}).get("value") or ""
            ),
            "ward": "",
        }
        right_title = str(_("Submitted"))
    rows = [
        ComparisonRow(_label(name), left.get(name, ""), right.get(name, "")) for name in _COMPARED
    ]
    identifier = payload.get("identifier")
    if identifier:
        kind = identifier.get("kind", "")
        label = IdentifierKind(kind).label if kind in IdentifierKind.values else kind
        warnings.append(f"{label}: {identifier.get('value', '')}")
    return ReviewView(
        item,
        str(_("Record in the registry")),
        right_title,
        item.person,
        item.other_person,
        rows,
        warnings,
    )
