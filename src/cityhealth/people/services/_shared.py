"""Helpers the registry's write use cases share: audit, locks, review items for IDs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cityhealth.core.audit import record_audit
from cityhealth.core.identifiers import (
    CccdQr,
    CitizenId,
    IdentifierWarning,
)
from cityhealth.core.names import normalise_name
from cityhealth.people import errors
from cityhealth.people.enums import (
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.models import (
    Person,
    ReviewItem,
)
from cityhealth.people.selectors import (
    clean_text,
    survivor_of,
)

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
