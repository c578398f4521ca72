"""Registering or identifying the holder of a chip ID card from its QR text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from cityhealth.core.identifiers import (
    CccdQr,
    OldIdKind,
    parse_cccd_qr,
)
from cityhealth.core.names import normalise_name
from cityhealth.people import errors
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.hooks import persons_changed
from cityhealth.people.models import (
    Person,
    PersonIdentifier,
    ReviewItem,
)
from cityhealth.people.selectors import (
    birth_text,
    check_facility_code,
    holders_of,
)
from cityhealth.people.services._shared import (
    _audit,
    _card_address,
    _card_view,
    _claimed_twice,
    _inconsistency_item,
    _lock,
    _same_name,
    _warning_dicts,
)

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


def _record_earlier_number(person: Person, card: CccdQr, old_number: str) -> None:
    """The 12-digit number the card replaced, kept as the person's cancelled number."""
    PersonIdentifier.objects.create(
        person=person,
        kind=IdentifierKind.CITIZEN_ID,
        value=old_number,
        status=IdentifierStatus.CANCELLED,
        valid_to=card.issue_date,
        reason=f"replaced by {card.citizen_id.number} (card)",
        source="qr_scan",
    )


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
        _record_earlier_number(person, card, old_number)
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
    persons_changed([person.pk])
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
    if filled or any(note != "card.superseded" for note in notes):
        persons_changed([person.pk])
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
                _record_earlier_number(person, card, old_number)
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
