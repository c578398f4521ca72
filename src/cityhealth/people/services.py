"""Use cases of the person registry that write. Keyword-only arguments; they never commit.

Rules every use case keeps:

- One person per real human. An identifier that would belong to two persons is never moved
  or duplicated silently: the use case writes an `ID_CLAIMED_TWICE` review item and raises
  `errors.IdClaimedTwice` (409) before changing anything else.
- A card scan never overwrites what the registry holds. Where it disagrees the person is
  returned with `conflict=True` and a `SCAN_CONFLICT` review item keeps both versions; only
  empty (or less precise but agreeing) fields are filled from the card.
- Row locks are taken in one order, the lower person id first (merge, unmerge).
- Everything is audited (`person.created`, `person.identified`, `person.updated`,
  `person.id_reissued`, `person.merged`, `person.unmerged`, `review_item.resolved`, ...).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from cityhealth.core import clock
from cityhealth.core.audit import record_audit
from cityhealth.core.errors import NotFound
from cityhealth.core.identifiers import (
    CccdQr,
    CitizenId,
    IdentifierWarning,
    OldIdKind,
    parse_bhyt_code,
    parse_cccd_qr,
    parse_citizen_id,
)
from cityhealth.core.names import normalise_name
from cityhealth.geo.selectors import get_ward
from cityhealth.people import errors
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    Relationship,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.models import (
    Guardianship,
    InsuranceCard,
    Merge,
    Person,
    PersonIdentifier,
    ReviewItem,
)
from cityhealth.people.selectors import (
    birth_text,
    check_birth_year,
    check_facility_code,
    clean_text,
    holders_of,
    normalise_phone,
    survivor_of,
)

UNKNOWN_NAME = "Chưa rõ danh tính"  # the name of a person brought in who cannot say who they are
_OLD_ID = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_FACILITY_CODE = re.compile(r"[0-9A-Z]{5}")
_INCONSISTENCY_CODES = {"citizen_id.birth_year_mismatch", "citizen_id.sex_mismatch"}


# --- helpers -------------------------------------------------------------------------------


def _audit(
    action: str,
    *,
    actor: str,
    person_id: int | str = "",
    facility_code: str = "",
    reason: str = "",
    source_ip: str = "",
    details: dict[str, Any] | None = None,
    target_type: str = "person",
) -> None:
    record_audit(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=person_id,
        facility_code=facility_code,
        reason=reason,
        source_ip=source_ip,
        details=details,
    )


def _require_reason(reason: str) -> str:
    text = clean_text(reason, max_length=300)
    if not text:
        raise errors.reason_required()
    return text


def _lock(person_id: int) -> Person:
    return Person.objects.select_for_update().get(pk=person_id)


def _lock_current(person: Person) -> Person:
    """Lock a person's row and make sure it was not merged away meanwhile."""
    locked = _lock(person.pk)
    if locked.merged_into_id is not None:
        raise errors.person_retired(survivor_id=survivor_of(locked).pk)
    return locked


def _same_name(a: str, b: str) -> bool:
    """Equal as written, ignoring case and spacing (diacritics count: "Nguyen" ≠ "Nguyễn")."""
    return normalise_name(a).casefold() == normalise_name(b).casefold()


def _card_address(card: CccdQr) -> str:
    # The card parser keeps the address as read; control characters have no place in it.
    return clean_text(card.address, max_length=300)


def _card_view(card: CccdQr) -> dict[str, Any]:
    return {
        "citizen_id": card.citizen_id.number,
        "old_id": card.old_id or "",
        "old_id_kind": str(card.old_id_kind),
        "full_name": normalise_name(card.full_name),
        "birth_date": card.date_of_birth.isoformat(),
        "sex": str(card.sex),
        "address": _card_address(card),
        "issue_date": card.issue_date.isoformat(),
    }


def _claimed_twice(
    *,
    kind: str,
    value: str,
    holder: Person,
    other: Person | None,
    source: str,
    actor: str,
    facility_code: str,
    source_ip: str,
    submitted: dict[str, Any],
) -> errors.IdClaimedTwice:
    """Write the review item for an identifier two persons would hold; return the error."""
    item = ReviewItem.objects.create(
        kind=ReviewKind.ID_CLAIMED_TWICE,
        person=holder,
        other_person=other,
        payload={
            "source": source,
            "identifier": {"kind": kind, "value": value},
            "holder_id": holder.pk,
            "claimant_id": other.pk if other else None,
            "submitted": submitted,
            "facility_code": facility_code,
        },
    )
    _audit(
        "person.id_claimed_twice",
        actor=actor,
        person_id=holder.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={"review_item_id": item.pk, "kind": kind, "source": source},
    )
    return errors.IdClaimedTwice(kind=kind, review_item_id=item.pk)


def _inconsistency_item(
    *, person: Person, number: str, warnings: list[dict[str, str]], seen: dict[str, Any]
) -> ReviewItem | None:
    """An ID_INCONSISTENT review item (one open item per person and number)."""
    if not warnings:
        return None
    existing = ReviewItem.objects.filter(
        kind=ReviewKind.ID_INCONSISTENT,
        status=ReviewStatus.OPEN,
        person=person,
        payload__citizen_id=number,
    ).first()
    if existing is not None:
        return existing
    return ReviewItem.objects.create(
        kind=ReviewKind.ID_INCONSISTENT,
        person=person,
        payload={"citizen_id": number, "warnings": warnings, "given": seen},
    )


def _warning_dicts(warnings: Iterable[IdentifierWarning]) -> list[dict[str, str]]:
    return [
        {"code": w.code, "vi": w.vi, "en": w.en} for w in warnings if w.code in _INCONSISTENCY_CODES
    ]


def _year_sex_warnings(
    parsed: CitizenId, *, birth_year: int | None, sex: str
) -> list[dict[str, str]]:
    """Where the ID's digits disagree with a known birth year or sex (warn, never refuse)."""
    found: list[dict[str, str]] = []
    if birth_year is not None and birth_year != parsed.birth_year:
        found.append(
            {
                "code": "citizen_id.birth_year_mismatch",
                "vi": f"Số định danh cho năm sinh {parsed.birth_year}, nhưng hồ sơ ghi "
                f"{birth_year}.",
                "en": f"The ID encodes birth year {parsed.birth_year}, but the record says "
                f"{birth_year}.",
            }
        )
    if sex in (Sex.MALE, Sex.FEMALE) and sex != parsed.sex.value:
        found.append(
            {
                "code": "citizen_id.sex_mismatch",
                "vi": "Chữ số giới tính trong số định danh khác giới tính trong hồ sơ.",
                "en": "The sex digit of the ID disagrees with the sex on the record.",
            }
        )
    return found


# --- scanning a chip ID card ---------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    card: CccdQr
    person: Person
    created: bool
    # The card disagrees with the registry (or names a number another record holds): a review
    # item keeps both versions and nothing was overwritten.
    conflict: bool
    review_items: tuple[ReviewItem, ...]
    filled: tuple[str, ...]  # registry fields that were empty (or vaguer) and came from the card
    notes: tuple[str, ...]  # "citizen_id.reissue_recorded", "card.superseded", ...


def register_from_scan(
    *, qr: str, actor: str, facility_code: str = "", source_ip: str = ""
) -> ScanResult:
    """Identify, or register, the holder of a chip ID card from the text of its QR code.

    Looks the card's number up among current and cancelled IDs, and also the cancelled
    12-digit number or 9-digit old ID the card carries in its second field. The current
    number decides who is at the desk; if it is unknown and the other numbers point at two
    records, nobody can be picked: `IdClaimedTwice`. If nothing is found, the person is
    created. A card whose digits contradict its own birth year or sex gets an
    `ID_INCONSISTENT` review item; the desk is not stopped.
    """
    card = parse_cccd_qr(qr)
    facility_code = check_facility_code(facility_code)
    number = card.citizen_id.number
    old_number = card.old_id if card.old_id_kind is OldIdKind.CANCELLED_ID else None
    cmnd = card.old_id if card.old_id_kind is OldIdKind.CMND else None

    for attempt in range(2):
        by_number = holders_of(IdentifierKind.CITIZEN_ID, number)
        by_old = holders_of(IdentifierKind.CITIZEN_ID, old_number) if old_number else []
        by_cmnd = holders_of(IdentifierKind.OLD_ID, cmnd) if cmnd else []
        # Which identifier of the card led to each record (the first one that did).
        led_by: dict[int, tuple[str, str]] = {}
        for holders, leading in (
            (by_number, (IdentifierKind.CITIZEN_ID.value, number)),
            (by_old, (IdentifierKind.CITIZEN_ID.value, old_number or "")),
            (by_cmnd, (IdentifierKind.OLD_ID.value, cmnd or "")),
        ):
            for holder, _active in holders:
                led_by.setdefault(holder.pk, leading)
        person: Person | None = None
        if by_number and (by_number[0][1] or len(by_number) == 1):
            # The current number decides who is at the desk (its active holder, or the one
            # record that held it before a newer card).
            person = by_number[0][0]
            claimants = [person] + [p for p, _active in (*by_old, *by_cmnd)]
        else:
            claimants = [p for p, _active in (*by_number, *by_old, *by_cmnd)]
        distinct = list({p.pk: p for p in claimants}.values())
        if person is None and len(distinct) > 1:
            kind, value = led_by[distinct[1].pk]
            raise _claimed_twice(
                kind=kind,
                value=value,
                holder=distinct[0],
                other=distinct[1],
                source="qr_scan",
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
                submitted=_card_view(card),
            )
        if person is None and distinct:
            person = distinct[0]
        if person is None:
            try:
                with transaction.atomic():
                    created = _create_from_card(card, old_number=old_number, cmnd=cmnd)
            except IntegrityError:
                # Someone registered the same card a moment ago: look again, once.
                if attempt:
                    raise errors.concurrent_change() from None
                continue
            return _after_create(card, created, actor, facility_code, source_ip)
        others = [(p, *led_by[p.pk]) for p in distinct if p.pk != person.pk]
        return _after_match(card, person, others, old_number, cmnd, actor, facility_code, source_ip)
    raise errors.concurrent_change()  # pragma: no cover - the loop always returns or raises


def _create_from_card(card: CccdQr, *, old_number: str | None, cmnd: str | None) -> Person:
    person = Person(
        full_name=normalise_name(card.full_name),
        birth_date=card.date_of_birth,
        birth_year=card.date_of_birth.year,
        birth_date_precision=DatePrecision.DAY,
        sex=card.sex.value,
        address=_card_address(card),
    )
    person.save()
    PersonIdentifier.objects.create(
        person=person,
        kind=IdentifierKind.CITIZEN_ID,
        value=card.citizen_id.number,
        valid_from=card.issue_date,
        source="qr_scan",
    )
    if old_number:
        PersonIdentifier.objects.create(
            person=person,
            kind=IdentifierKind.CITIZEN_ID,
            value=old_number,
            status=IdentifierStatus.CANCELLED,
            valid_to=card.issue_date,
            reason=f"replaced by {card.citizen_id.number} (card)",
            source="qr_scan",
        )
    if cmnd:
        PersonIdentifier.objects.create(
            person=person, kind=IdentifierKind.OLD_ID, value=cmnd, source="qr_scan"
        )
    return person


def _card_inconsistency(card: CccdQr, person: Person) -> ReviewItem | None:
    return _inconsistency_item(
        person=person,
        number=card.citizen_id.number,
        warnings=_warning_dicts(card.warnings),
        seen={"birth_date": card.date_of_birth.isoformat(), "sex": str(card.sex)},
    )


def _after_create(
    card: CccdQr, person: Person, actor: str, facility_code: str, source_ip: str
) -> ScanResult:
    items = [item for item in (_card_inconsistency(card, person),) if item]
    _audit(
        "person.created",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={"source": "qr_scan", "review_item_ids": [i.pk for i in items]},
    )
    return ScanResult(
        card=card,
        person=person,
        created=True,
        conflict=False,
        review_items=tuple(items),
        filled=(),
        notes=(),
    )


def _after_match(
    card: CccdQr,
    person: Person,
    others: list[tuple[Person, str, str]],
    old_number: str | None,
    cmnd: str | None,
    actor: str,
    facility_code: str,
    source_ip: str,
) -> ScanResult:
    person = _lock(person.pk)
    number = card.citizen_id.number
    items: list[ReviewItem] = []
    notes: list[str] = []
    differences: dict[str, tuple[Any, Any]] = {}

    if others:
        # The card's other numbers belong to other records: a likely duplicate. The current
        # number identified this person; nothing is moved, the reviewers decide.
        for other, kind, value in others:
            items.append(
                _claim_item_for_scan(
                    card, person, other, (kind, value), actor, facility_code, source_ip
                )
            )
    else:
        notes += _record_card_identifiers(card, person, old_number, cmnd, differences)
        if "citizen_id.reissue_recorded" in notes:
            _audit(
                "person.id_reissued",
                actor=actor,
                person_id=person.pk,
                facility_code=facility_code,
                source_ip=source_ip,
                details={"new": number, "old": old_number, "source": "qr_scan"},
            )

    filled = _compare_and_fill(card, person, differences)
    if filled:
        person.save()
    if differences:
        items.append(_scan_conflict_item(card, person, differences, facility_code))
    inconsistency = _card_inconsistency(card, person)
    if inconsistency:
        items.append(inconsistency)
    _audit(
        "person.identified",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={
            "method": "qr_scan",
            "conflict": bool(differences or others),
            "filled": filled,
            "notes": notes,
            "review_item_ids": [i.pk for i in items],
        },
    )
    return ScanResult(
        card=card,
        person=person,
        created=False,
        conflict=bool(differences or others),
        review_items=tuple(items),
        filled=tuple(filled),
        notes=tuple(notes),
    )


def _claim_item_for_scan(
    card: CccdQr,
    person: Person,
    other: Person,
    identifier: tuple[str, str],
    actor: str,
    facility_code: str,
    source_ip: str,
) -> ReviewItem:
    existing = ReviewItem.objects.filter(
        kind=ReviewKind.ID_CLAIMED_TWICE,
        status=ReviewStatus.OPEN,
        person=person,
        other_person=other,
    ).first()
    if existing is not None:
        return existing
    item = ReviewItem.objects.create(
        kind=ReviewKind.ID_CLAIMED_TWICE,
        person=person,
        other_person=other,
        payload={
            "source": "qr_scan",
            "identifier": {"kind": identifier[0], "value": identifier[1]},
            "holder_id": person.pk,
            "claimant_id": other.pk,
            "submitted": _card_view(card),
            "facility_code": facility_code,
        },
    )
    _audit(
        "person.id_claimed_twice",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={"review_item_id": item.pk, "other_person_id": other.pk, "source": "qr_scan"},
    )
    return item


def _record_card_identifiers(
    card: CccdQr,
    person: Person,
    old_number: str | None,
    cmnd: str | None,
    differences: dict[str, tuple[Any, Any]],
) -> list[str]:
    """Add what the card tells about the person's identifiers and the registry lacks."""
    number = card.citizen_id.number
    notes: list[str] = []
    held = {
        (i.kind, i.value): i
        for i in person.identifiers.exclude(status=IdentifierStatus.RETIRED).order_by("id")
    }
    current = [
        i
        for i in held.values()
        if i.kind == IdentifierKind.CITIZEN_ID and i.status == IdentifierStatus.ACTIVE
    ]
    mine = held.get((IdentifierKind.CITIZEN_ID, number))
    try:
        with transaction.atomic():
            if mine is not None and mine.status == IdentifierStatus.CANCELLED:
                notes.append("card.superseded")  # an older card: the person has a newer one
            elif mine is None:
                others = [i for i in current if i.value != number]
                if others and not (old_number and all(i.value == old_number for i in others)):
                    differences["citizen_id"] = (
                        ", ".join(i.value for i in others),
                        number,
                    )
                else:
                    for identifier in others:
                        identifier.status = IdentifierStatus.CANCELLED
                        identifier.valid_to = card.issue_date
                        identifier.reason = f"replaced by {number} (card)"
                        identifier.save(update_fields=["status", "valid_to", "reason"])
                    PersonIdentifier.objects.create(
                        person=person,
                        kind=IdentifierKind.CITIZEN_ID,
                        value=number,
                        valid_from=card.issue_date,
                        source="qr_scan",
                    )
                    if others:
                        notes.append("citizen_id.reissue_recorded")
                    else:
                        notes.append("citizen_id.added")
            if old_number and (IdentifierKind.CITIZEN_ID, old_number) not in held:
                PersonIdentifier.objects.create(
                    person=person,
                    kind=IdentifierKind.CITIZEN_ID,
                    value=old_number,
                    status=IdentifierStatus.CANCELLED,
                    valid_to=card.issue_date,
                    reason=f"replaced by {number} (card)",
                    source="qr_scan",
                )
                notes.append("citizen_id.history_added")
            if cmnd and (IdentifierKind.OLD_ID, cmnd) not in held:
                PersonIdentifier.objects.create(
                    person=person, kind=IdentifierKind.OLD_ID, value=cmnd, source="qr_scan"
                )
                notes.append("old_id.added")
    except IntegrityError:
        raise errors.concurrent_change() from None
    return notes


def _compare_and_fill(
    card: CccdQr, person: Person, differences: dict[str, tuple[Any, Any]]
) -> list[str]:
    """Note where the card disagrees; fill what the registry lacks or knows only vaguely."""
    filled: list[str] = []
    scanned_name = normalise_name(card.full_name)
    if not _same_name(person.full_name, scanned_name):
        differences["full_name"] = (person.full_name, scanned_name)

    born = card.date_of_birth
    precision = person.birth_date_precision
    if person.birth_year is None:
        agrees, refine = True, True
    elif precision == DatePrecision.DAY and person.birth_date is not None:
        agrees, refine = person.birth_date == born, False
    elif precision == DatePrecision.MONTH and person.birth_date is not None:
        agrees = (person.birth_date.year, person.birth_date.month) == (born.year, born.month)
        refine = agrees
    else:
        agrees, refine = person.birth_year == born.year, person.birth_year == born.year
    if not agrees:
        differences["birth_date"] = (birth_text(person), born.isoformat())
    elif refine:
        person.birth_date, person.birth_year = born, born.year
        person.birth_date_precision = DatePrecision.DAY
        filled.append("birth_date")

    if person.sex == Sex.UNKNOWN:
        person.sex = card.sex.value
        filled.append("sex")
    elif person.sex != card.sex.value:
        differences["sex"] = (person.sex, card.sex.value)

    if not person.address and _card_address(card):
        person.address = _card_address(card)
        filled.append("address")
    return filled


def _scan_conflict_item(
    card: CccdQr,
    person: Person,
    differences: dict[str, tuple[Any, Any]],
    facility_code: str,
) -> ReviewItem:
    fields = sorted(differences)
    payload = {
        "citizen_id": card.citizen_id.number,
        "fields": fields,
        "registry": {name: differences[name][0] for name in fields},
        "scanned": {name: differences[name][1] for name in fields},
        "card": _card_view(card),
        "facility_code": facility_code,
    }
    existing = ReviewItem.objects.filter(
        kind=ReviewKind.SCAN_CONFLICT, status=ReviewStatus.OPEN, person=person
    )
    for item in existing:
        if item.payload.get("scanned") == payload["scanned"]:
            return item  # the same card scanned again: one item is enough
    return ReviewItem.objects.create(kind=ReviewKind.SCAN_CONFLICT, person=person, payload=payload)


# --- registering at the desk ---------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    person: Person
    review_items: tuple[ReviewItem, ...]  # ID_INCONSISTENT, when the ID's digits disagree


@dataclass(frozen=True)
class _Birth:
    date: dt.date | None
    year: int | None
    precision: DatePrecision


def _birth(
    *,
    birth_date: dt.date | None,
    birth_date_precision: str | None,
    birth_year: int | None,
    approximate_age: int | None,
) -> _Birth:
    today = clock.today()
    if birth_date is not None:
        if birth_date > today:
            raise errors.invalid(
                "person.birth_date_in_future",
                vi="Ngày sinh là một ngày chưa tới.",
                en="The date of birth is in the future.",
                field="birth_date",
            )
        check_birth_year(birth_date.year, field="birth_date")
        if birth_year is not None and birth_year != birth_date.year:
            raise errors.invalid(
                "person.birth_year_mismatch",
                vi="Năm sinh và ngày sinh không khớp nhau.",
                en="The birth year and the date of birth disagree.",
                field="birth_year",
            )
        precision = DatePrecision(birth_date_precision or DatePrecision.DAY)
        if precision == DatePrecision.YEAR:
            return _Birth(None, birth_date.year, precision)
        if precision == DatePrecision.MONTH:
            return _Birth(birth_date.replace(day=1), birth_date.year, precision)
        return _Birth(birth_date, birth_date.year, precision)
    if birth_year is not None:
        return _Birth(None, check_birth_year(birth_year), DatePrecision.YEAR)
    if approximate_age is not None:
        if not 0 <= approximate_age <= 125:
            raise errors.invalid(
                "person.bad_age",
                vi="Tuổi ước tính phải từ 0 đến 125.",
                en="The approximate age must be between 0 and 125.",
                field="approximate_age",
            )
        return _Birth(None, today.year - approximate_age, DatePrecision.YEAR)
    return _Birth(None, None, DatePrecision.YEAR)


def _ward(code: str) -> Any:
    code = code.strip()
    if not code:
        return None
    try:
        return get_ward(code)
    except NotFound:
        raise errors.invalid(
            "person.unknown_ward",
            vi=f"Không có phường/xã mã “{code[:10]}”.",
            en=f"There is no ward with code “{code[:10]}”.",
            field="ward",
        ) from None


def register_person(
    *,
    actor: str,
    full_name: str = "",
    birth_date: dt.date | None = None,
    birth_date_precision: str | None = None,
    birth_year: int | None = None,
    approximate_age: int | None = None,
    sex: str = Sex.UNKNOWN,
    nationality: str = "VN",
    citizen_id: str = "",
    old_id: str = "",
    passport: str = "",
    passport_country: str = "",
    insurance_code: str = "",
    insurance_valid_from: dt.date | None = None,
    insurance_valid_to: dt.date | None = None,
    primary_care_facility: str = "",
    phone: str = "",
    ward_code: str = "",
    address: str = "",
    guardian: Person | None = None,
    guardian_relationship: str = "",
    facility_code: str = "",
    source_ip: str = "",
    source: str = "desk",
) -> Registration:
    """Register a person at a desk: a resident with papers, a child on a guardian's ID, a
    foreigner with a passport, or an unknown person with only an approximate age.

    Every identifier given must be free: one already held (now or earlier) by another record
    gives `IdClaimedTwice` and an `ID_CLAIMED_TWICE` review item, and nobody is created.
    """
    facility_code = check_facility_code(facility_code)
    name = normalise_name(clean_text(full_name, max_length=200)) or UNKNOWN_NAME
    birth = _birth(
        birth_date=birth_date,
        birth_date_precision=birth_date_precision,
        birth_year=birth_year,
        approximate_age=approximate_age,
    )
    sex_value = _sex(sex)
    country = (nationality or "VN").strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise errors.invalid(
            "person.bad_nationality",
            vi="Quốc tịch là mã 2 chữ cái (VN, US, ...).",
            en="The nationality is a 2-letter code (VN, US, ...).",
            field="nationality",
        )
    identifiers: list[tuple[str, str, str]] = []  # (kind, issuer, value)
    parsed_id: CitizenId | None = None
    if citizen_id.strip():
        parsed_id = parse_citizen_id(citizen_id)
        identifiers.append((IdentifierKind.CITIZEN_ID, "", parsed_id.number))
    if old_id.strip():
        if not _OLD_ID.fullmatch(old_id.strip()):
            raise errors.invalid(
                "person.bad_old_id",
                vi="Số CMND cũ gồm 9 chữ số.",
                en="An old ID card number is 9 digits.",
                field="old_id",
            )
        identifiers.append((IdentifierKind.OLD_ID, "", old_id.strip()))
    if passport.strip():
        number = passport.strip().upper()
        issuer = (passport_country or country).strip().upper()
        if not _PASSPORT.fullmatch(number) or not _COUNTRY.fullmatch(issuer):
            raise errors.invalid(
                "person.bad_passport",
                vi="Số hộ chiếu gồm 5–20 chữ cái hoặc chữ số; nước cấp là mã 2 chữ cái.",
                en="A passport number is 5–20 letters or digits; its country a 2-letter code.",
                field="passport",
            )
        identifiers.append((IdentifierKind.PASSPORT, issuer, number))
    card = parse_bhyt_code(insurance_code) if insurance_code.strip() else None
    if card is not None:
        identifiers.append((IdentifierKind.SOCIAL_INSURANCE, "", card.social_insurance_number))
        starts, ends = insurance_valid_from, insurance_valid_to
        if starts and ends and ends < starts:
            raise errors.invalid(
                "person.bad_insurance_validity",
                vi="Thẻ BHYT hết hạn trước ngày bắt đầu có giá trị.",
                en="The BHYT card expires before it becomes valid.",
                field="insurance_valid_to",
            )
    facility = primary_care_facility.strip().upper()
    if facility and not _FACILITY_CODE.fullmatch(facility):
        raise errors.invalid(
            "person.bad_primary_care_facility",
            vi="Mã nơi đăng ký khám chữa bệnh ban đầu gồm 5 ký tự.",
            en="The registered primary-care facility code is 5 characters.",
            field="primary_care_facility",
        )
    phone_digits = normalise_phone(phone)
    ward = _ward(ward_code)
    relationship = _relationship(guardian, guardian_relationship)
    if guardian is not None:
        guardian = _lock_current(guardian)

    submitted = {
        "full_name": name,
        "birth_date": birth.date.isoformat() if birth.date else None,
        "birth_year": birth.year,
        "sex": sex_value,
        "identifiers": [{"kind": k, "issuer": i, "value": v} for k, i, v in identifiers],
    }
    for kind, issuer, value in identifiers:
        holders = holders_of(kind, value, issuer=issuer)
        if holders:
            raise _claimed_twice(
                kind=kind,
                value=value,
                holder=holders[0][0],
                other=None,
                source=source,
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
                submitted=submitted,
            )

    try:
        with transaction.atomic():
            person = Person(
                full_name=name,
                birth_date=birth.date,
                birth_year=birth.year,
                birth_date_precision=birth.precision,
                sex=sex_value,
                nationality=country,
                ward=ward,
                address=clean_text(address, max_length=300),
                phone=phone_digits,
            )
            person.save()
            for kind, issuer, value in identifiers:
                PersonIdentifier.objects.create(
                    person=person, kind=kind, issuer=issuer, value=value, source=source
                )
            if card is not None:
                InsuranceCard.objects.create(
                    person=person,
                    code=card.code if len(card.code) == 15 else "",
                    social_insurance_number=card.social_insurance_number,
                    group=card.group.code if card.group else "",
                    benefit_level=card.card_level,
                    primary_care_facility=facility,
                    valid_from=insurance_valid_from,
                    valid_to=insurance_valid_to,
                )
            if guardian is not None:
                Guardianship.objects.create(
                    child=person, guardian=guardian, relationship=relationship
                )
    except IntegrityError:
        raise errors.concurrent_change() from None

    items: list[ReviewItem] = []
    if parsed_id is not None:
        item = _inconsistency_item(
            person=person,
            number=parsed_id.number,
            warnings=_year_sex_warnings(parsed_id, birth_year=birth.year, sex=sex_value),
            seen={"birth_year": birth.year, "sex": sex_value},
        )
        if item:
            items.append(item)
    _audit(
        "person.created",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={
            "source": source,
            "identifier_kinds": [kind for kind, _i, _v in identifiers],
            "guardian_id": guardian.pk if guardian else None,
            "review_item_ids": [i.pk for i in items],
        },
    )
    return Registration(person=person, review_items=tuple(items))


def _sex(value: str) -> str:
    try:
        return Sex(value or Sex.UNKNOWN).value
    except ValueError:
        raise errors.invalid(
            "person.bad_sex",
            vi="Giới tính là male, female hoặc unknown.",
            en="The sex is male, female or unknown.",
            field="sex",
        ) from None


def _relationship(guardian: Person | None, value: str) -> str:
    if guardian is None:
        if value:
            raise errors.invalid(
                "person.guardian_missing",
                vi="Đã ghi quan hệ nhưng chưa chọn người giám hộ.",
                en="A relationship was given without a guardian.",
                field="guardian",
            )
        return ""
    try:
        return Relationship(value or Relationship.GUARDIAN).value
    except ValueError:
        raise errors.invalid(
            "person.bad_relationship",
            vi="Quan hệ là mother, father hoặc guardian.",
            en="The relationship is mother, father or guardian.",
            field="guardian_relationship",
        ) from None


# --- re-issued ID numbers ------------------------------------------------------------------


def record_id_reissue(
    *,
    person: Person,
    new_citizen_id: str,
    reason: str,
    actor: str,
    issued_on: dt.date | None = None,
    facility_code: str = "",
    source_ip: str = "",
    source: str = "desk",
) -> PersonIdentifier:
    """The person's 12-digit ID was re-issued: the current one becomes CANCELLED (valid to
    the issue date) and the new one ACTIVE. Sending the same new number again changes
    nothing. If another record holds the new number as its current one: `IdClaimedTwice`
    and an `ID_CLAIMED_TWICE` review item, nothing changed."""
    parsed = parse_citizen_id(new_citizen_id)
    why = _require_reason(reason)
    facility_code = check_facility_code(facility_code)
    issued = issued_on or clock.today()
    if issued > clock.today():
        raise errors.invalid(
            "person.issue_date_in_future",
            vi="Ngày cấp là một ngày chưa tới.",
            en="The issue date is in the future.",
            field="issued_on",
        )
    person = _lock_current(person)
    current = list(
        person.identifiers.filter(kind=IdentifierKind.CITIZEN_ID, status=IdentifierStatus.ACTIVE)
    )
    for identifier in current:
        if identifier.value == parsed.number:
            return identifier  # already recorded: a retry, not a second re-issue
    for holder, active in holders_of(IdentifierKind.CITIZEN_ID, parsed.number):
        if active and holder.pk != person.pk:
            raise _claimed_twice(
                kind=IdentifierKind.CITIZEN_ID,
                value=parsed.number,
                holder=holder,
                other=person,
                source="reissue",
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
                submitted={"new_citizen_id": parsed.number, "reason": why},
            )
    try:
        with transaction.atomic():
            for identifier in current:
                identifier.status = IdentifierStatus.CANCELLED
                identifier.valid_to = issued
                identifier.reason = why[:200]
                identifier.save(update_fields=["status", "valid_to", "reason"])
            new = PersonIdentifier.objects.create(
                person=person,
                kind=IdentifierKind.CITIZEN_ID,
                value=parsed.number,
                valid_from=issued,
                reason=why[:200],
                source=source,
            )
    except IntegrityError:
        raise errors.concurrent_change() from None
    _inconsistency_item(
        person=person,
        number=parsed.number,
        warnings=_year_sex_warnings(parsed, birth_year=person.birth_year, sex=person.sex),
        seen={"birth_year": person.birth_year, "sex": person.sex},
    )
    _audit(
        "person.id_reissued",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        reason=why,
        source_ip=source_ip,
        details={"old": [i.value for i in current], "new": parsed.number},
    )
    return new


# --- merge and unmerge ---------------------------------------------------------------------


def _lock_pair(a: int, b: int) -> dict[int, Person]:
    """Lock two persons' rows, the lower id first, so two merges never wait on each other."""
    low, high = sorted((a, b))
    return {low: _lock(low), high: _lock(high)}


def merge_persons(
    *,
    survivor: Person,
    retired: Person,
    reason: str,
    actor: str,
    facility_code: str = "",
    source_ip: str = "",
) -> Merge:
    """Fold `retired` into `survivor`: its identifiers, insurance cards and guardianships
    move to the survivor, and `retired.merged_into` points there. An identifier both hold
    stays with the retired record as RETIRED. What moved is kept in `Merge.moved` so that
    `unmerge` can put it back exactly. Merging the same pair again changes nothing."""
    if survivor.pk == retired.pk:
        raise errors.merge_same_person()
    why = _require_reason(reason)
    locked = _lock_pair(survivor.pk, retired.pk)
    survivor, retired = locked[survivor.pk], locked[retired.pk]
    if retired.merged_into_id == survivor.pk and survivor.merged_into_id is None:
        existing = (
            Merge.objects.filter(survivor=survivor, retired=retired, undone_at__isnull=True)
            .order_by("-id")
            .first()
        )
        if existing is not None:
            return existing
    if retired.merged_into_id is not None or survivor.merged_into_id is not None:
        raise errors.merge_already_merged()

    survivor_keys = set(
        survivor.identifiers.exclude(status=IdentifierStatus.RETIRED).values_list(
            "kind", "issuer", "value"
        )
    )
    moved: dict[str, list[Any]] = {
        "identifiers": [],
        "retired_identifiers": [],
        "insurance_cards": [],
        "guardianships_as_child": [],
        "guardianships_as_guardian": [],
    }
    for identifier in retired.identifiers.exclude(status=IdentifierStatus.RETIRED).order_by("id"):
        if (identifier.kind, identifier.issuer, identifier.value) in survivor_keys:
            moved["retired_identifiers"].append({"id": identifier.pk, "status": identifier.status})
        else:
            moved["identifiers"].append(identifier.pk)
    moved["insurance_cards"] = list(
        retired.insurance_cards.order_by("id").values_list("id", flat=True)
    )
    survivor_guardians = set(survivor.guardians.values_list("guardian_id", flat=True))
    survivor_children = set(survivor.wards_of.values_list("child_id", flat=True))
    for link in retired.guardians.order_by("id"):
        if link.guardian_id != survivor.pk and link.guardian_id not in survivor_guardians:
            moved["guardianships_as_child"].append(link.pk)
    for link in retired.wards_of.order_by("id"):
        if link.child_id != survivor.pk and link.child_id not in survivor_children:
            moved["guardianships_as_guardian"].append(link.pk)

    PersonIdentifier.objects.filter(
        pk__in=[entry["id"] for entry in moved["retired_identifiers"]]
    ).update(status=IdentifierStatus.RETIRED)
    PersonIdentifier.objects.filter(pk__in=moved["identifiers"]).update(person=survivor)
    InsuranceCard.objects.filter(pk__in=moved["insurance_cards"]).update(person=survivor)
    Guardianship.objects.filter(pk__in=moved["guardianships_as_child"]).update(child=survivor)
    Guardianship.objects.filter(pk__in=moved["guardianships_as_guardian"]).update(guardian=survivor)
    retired.merged_into = survivor
    retired.save(update_fields=["merged_into", "updated_at"])
    merge = Merge.objects.create(
        survivor=survivor,
        retired=retired,
        reason=why,
        moved=moved,
        performed_by=actor,
        performed_at=clock.now(),
    )
    details = {"merge_id": merge.pk, "survivor_id": survivor.pk, "retired_id": retired.pk}
    for person_id in (retired.pk, survivor.pk):
        _audit(
            "person.merged",
            actor=actor,
            person_id=person_id,
            facility_code=facility_code,
            reason=why,
            source_ip=source_ip,
            details=details,
        )
    return merge


def unmerge(
    *,
    merge: Merge,
    actor: str,
    reason: str = "",
    facility_code: str = "",
    source_ip: str = "",
) -> Merge:
    """Undo a merge: put back exactly what moved, restore the statuses of identifiers that
    were retired, and make the retired record a person of its own again."""
    locked = _lock_pair(merge.survivor_id, merge.retired_id)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    survivor, retired = locked[merge.survivor_id], locked[merge.retired_id]
    if merge.undone_at is not None:
        raise errors.merge_already_undone()
    if retired.merged_into_id != survivor.pk:
        raise errors.merge_cannot_undo(
            why_vi="hồ sơ bị gộp không còn trỏ tới hồ sơ giữ lại.",
            why_en="the retired record no longer points at the survivor.",
        )
    if survivor.merged_into_id is not None:
        raise errors.merge_cannot_undo(
            why_vi="hồ sơ giữ lại đã được gộp tiếp vào hồ sơ khác; hãy hoàn tác lần đó trước.",
            why_en="the survivor was merged again since; undo that merge first.",
        )
    moved = merge.moved
    try:
        with transaction.atomic():
            _put_back(
                PersonIdentifier.objects.filter(person=survivor),
                moved["identifiers"],
                person=retired,
            )
            for entry in moved["retired_identifiers"]:
                PersonIdentifier.objects.filter(
                    pk=entry["id"], person=retired, status=IdentifierStatus.RETIRED
                ).update(status=entry["status"])
            _put_back(
                InsuranceCard.objects.filter(person=survivor),
                moved["insurance_cards"],
                person=retired,
            )
            _put_back(
                Guardianship.objects.filter(child=survivor),
                moved["guardianships_as_child"],
                child=retired,
            )
            _put_back(
                Guardianship.objects.filter(guardian=survivor),
                moved["guardianships_as_guardian"],
                guardian=retired,
            )
            retired.merged_into = None
            retired.save(update_fields=["merged_into", "updated_at"])
            merge.undone_by = actor
            merge.undone_at = clock.now()
            merge.save(update_fields=["undone_by", "undone_at"])
    except IntegrityError:
        raise errors.merge_cannot_undo(
            why_vi="một giấy tờ của hồ sơ đã được cấp lại cho hồ sơ khác từ sau lần gộp.",
            why_en="an identifier of the record has been given to another record since.",
        ) from None
    details = {"merge_id": merge.pk, "survivor_id": survivor.pk, "retired_id": retired.pk}
    for person_id in (retired.pk, survivor.pk):
        _audit(
            "person.unmerged",
            actor=actor,
            person_id=person_id,
            facility_code=facility_code,
            reason=clean_text(reason, max_length=300),
            source_ip=source_ip,
            details=details,
        )
    return merge


def _put_back(rows: QuerySet[Any], ids: list[int], **target: Person) -> None:
    changed = rows.filter(pk__in=ids).update(**target)
    if changed != len(ids):
        raise errors.merge_cannot_undo(
            why_vi="một phần dữ liệu đã chuyển đi từ sau lần gộp.",
            why_en="some of what moved has been moved again since.",
        )


# --- the review queue ----------------------------------------------------------------------


class ReviewDecision(StrEnum):
    ACCEPT_SCANNED = "accept_scanned"  # take the card's values into the registry
    KEEP_REGISTRY = "keep_registry"  # the registry is right: close the item
    MERGE = "merge"  # the two records are one human
    DISMISS = "dismiss"  # nothing to do


def decisions_for(item: ReviewItem) -> list[ReviewDecision]:
    """The decisions that make sense for an item, in the order a page offers them."""
    if item.status != ReviewStatus.OPEN:
        return []
    choices = []
    if item.kind == ReviewKind.SCAN_CONFLICT and item.person_id is not None:
        choices.append(ReviewDecision.ACCEPT_SCANNED)
    if item.person_id is not None and item.other_person_id is not None:
        choices.append(ReviewDecision.MERGE)
    choices += [ReviewDecision.KEEP_REGISTRY, ReviewDecision.DISMISS]
    return choices


def resolve_review_item(
    *,
    item: ReviewItem,
    decision: str,
    actor: str,
    note: str = "",
    survivor_id: int | None = None,
    facility_code: str = "",
    source_ip: str = "",
) -> ReviewItem:
    """Close a review item with a decision.

    `accept_scanned` updates the person with the card's values (a different ID number is
    recorded as a re-issue); `merge` merges the two records (the older one survives unless
    `survivor_id` names the other); `keep_registry` and `dismiss` change nothing else.
    """
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ReviewStatus.OPEN:
        raise errors.review_item_closed()
    try:
        chosen = ReviewDecision(decision)
    except ValueError:
        raise errors.review_bad_decision(str(decision)[:40]) from None
    if chosen not in decisions_for(item):
        raise errors.review_bad_decision(chosen.value)
    text = clean_text(note, max_length=200)
    details: dict[str, Any] = {"decision": chosen.value, "kind": item.kind}

    if chosen is ReviewDecision.ACCEPT_SCANNED:
        assert item.person is not None
        details["fields"] = _accept_scanned(item, actor, facility_code, source_ip)
    elif chosen is ReviewDecision.MERGE:
        assert item.person is not None
        assert item.other_person is not None
        first, second = survivor_of(item.person), survivor_of(item.other_person)
        if first.pk != second.pk:
            keep = min(first.pk, second.pk) if survivor_id is None else survivor_id
            if keep not in (first.pk, second.pk):
                raise errors.review_bad_decision("merge")
            survivor, retired = (first, second) if keep == first.pk else (second, first)
            merge = merge_persons(
                survivor=survivor,
                retired=retired,
                reason=f"review item #{item.pk}" + (f": {text}" if text else ""),
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
            )
            details["merge_id"] = merge.pk

    item.status = (
        ReviewStatus.DISMISSED if chosen is ReviewDecision.DISMISS else ReviewStatus.RESOLVED
    )
    item.resolved_at = clock.now()
    item.resolved_by = actor
    item.resolution = (chosen.value + (f": {text}" if text else ""))[:300]
    item.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    _audit(
        "review_item.resolved",
        actor=actor,
        person_id=item.pk,
        target_type="review_item",
        facility_code=facility_code,
        source_ip=source_ip,
        details=details,
    )
    return item


def _accept_scanned(item: ReviewItem, actor: str, facility_code: str, source_ip: str) -> list[str]:
    """Write the scanned values into the person. The ID number goes first: if another record
    holds it, `IdClaimedTwice` is raised before anything else is written."""
    assert item.person is not None
    person = survivor_of(item.person)
    scanned: dict[str, Any] = item.payload.get("scanned", {})
    if scanned.get("citizen_id"):
        record_id_reissue(
            person=person,
            new_citizen_id=str(scanned["citizen_id"]),
            reason=f"card scan accepted in review item #{item.pk}",
            actor=actor,
            issued_on=_iso_date(item.payload.get("card", {}).get("issue_date")),
            facility_code=facility_code,
            source_ip=source_ip,
            source="review",
        )
    person = _lock_current(person)
    fields: list[str] = []
    if scanned.get("full_name"):
        person.full_name = normalise_name(str(scanned["full_name"]))[:200]
        fields.append("full_name")
    born = _iso_date(scanned.get("birth_date"))
    if born is not None:
        person.birth_date, person.birth_year = born, born.year
        person.birth_date_precision = DatePrecision.DAY
        fields.append("birth_date")
    if scanned.get("sex") in (Sex.MALE, Sex.FEMALE):
        person.sex = str(scanned["sex"])
        fields.append("sex")
    if fields:
        person.save()
    _audit(
        "person.updated",
        actor=actor,
        person_id=person.pk,
        facility_code=facility_code,
        source_ip=source_ip,
        details={"fields": fields, "review_item_id": item.pk},
    )
    return fields + (["citizen_id"] if scanned.get("citizen_id") else [])


def _iso_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
