"""Closing review items with a decision."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from cityhealth.core import clock
from cityhealth.core.names import normalise_name
from cityhealth.people import errors
from cityhealth.people.enums import (
    DatePrecision,
    ReviewKind,
    ReviewStatus,
    Sex,
)
from cityhealth.people.hooks import gathered, persons_changed
from cityhealth.people.models import Person, ReviewItem
from cityhealth.people.selectors import (
    clean_text,
    survivor_of,
)
from cityhealth.people.services._shared import _audit, _lock_current
from cityhealth.people.services.incoming import (
    keep_record_number,
    record_from_payload,
    register_incoming_record,
)
from cityhealth.people.services.merging import merge_persons
from cityhealth.people.services.reissue import record_id_reissue


class ReviewDecision(StrEnum):
    ACCEPT_SCANNED = "accept_scanned"  # take the card's values into the registry
    KEEP_REGISTRY = "keep_registry"  # the registry is right: close the item
    MERGE = "merge"  # the two records are one human
    DISMISS = "dismiss"  # nothing to do
    LINK = "link"  # an incoming record is this candidate's (`person_id` names which)
    REGISTER_NEW = "register_new"  # an incoming record is a person the registry lacks


def decisions_for(item: ReviewItem) -> list[ReviewDecision]:
    """The decisions that make sense for an item, in the order a page offers them."""
    if item.status != ReviewStatus.OPEN:
        return []
    if item.kind == ReviewKind.MATCH_REVIEW:
        # The candidates may be two different people (twins): never offer to merge them here.
        links = [ReviewDecision.LINK] if item.payload.get("candidates") else []
        return [*links, ReviewDecision.REGISTER_NEW, ReviewDecision.DISMISS]
    choices = []
    if item.kind == ReviewKind.SCAN_CONFLICT and item.person_id is not None:
        choices.append(ReviewDecision.ACCEPT_SCANNED)
    if item.person_id is not None and item.other_person_id is not None:
        choices.append(ReviewDecision.MERGE)
    choices += [ReviewDecision.KEEP_REGISTRY, ReviewDecision.DISMISS]
    return choices


@gathered()
def resolve_review_item(
    *,
    item: ReviewItem,
    decision: str,
    actor: str,
    note: str = "",
    survivor_id: int | None = None,
    person_id: int | None = None,
    facility_code: str = "",
    source_ip: str = "",
) -> ReviewItem:
    """Close a review item with a decision.

    `accept_scanned` updates the person with the card's values (a different ID number is
    recorded as a re-issue); `merge` merges the two records (the older one survives unless
    `survivor_id` names the other); `link` ties an incoming record to the candidate
    `person_id` and `register_new` registers it as a new person (both keep the sender's record
    number on the person); `keep_registry` and `dismiss` change nothing else.
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

    elif chosen is ReviewDecision.LINK:
        details["person_id"] = _link_incoming(item, person_id, actor, facility_code, source_ip)
    elif chosen is ReviewDecision.REGISTER_NEW and item.payload.get("provisional_person_id"):
        # Registered when the record came: the provisional person is that new person.
        details["person_id"] = int(item.payload["provisional_person_id"])
    elif chosen is ReviewDecision.REGISTER_NEW:
        record = record_from_payload(item.payload.get("record", {}))
        details["person_id"] = register_incoming_record(
            record=record,
            actor=actor,
            facility_code=str(item.payload.get("facility_code", "")),
            source_ip=source_ip,
        ).pk

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


def _link_incoming(
    item: ReviewItem, person_id: int | None, actor: str, facility_code: str, source_ip: str
) -> int:
    """Tie the item's incoming record to the candidate `person_id`; its survivor's id. A
    provisional person registered for the record is merged into it (what was filed under
    the provisional person follows, its identifiers included)."""
    offered = {int(c["person_id"]) for c in item.payload.get("candidates", [])}
    if person_id is None or person_id not in offered:
        raise errors.review_bad_decision("link")
    person = survivor_of(Person.objects.get(pk=person_id))
    provisional_id = item.payload.get("provisional_person_id")
    if provisional_id:
        provisional = survivor_of(Person.objects.get(pk=int(provisional_id)))
        if provisional.pk != person.pk:
            merge_persons(
                survivor=person,
                retired=provisional,
                reason=f"review item #{item.pk}: the provisional record is this person",
                actor=actor,
                facility_code=facility_code,
                source_ip=source_ip,
            )
        return person.pk
    keep_record_number(
        person=person,
        record=record_from_payload(item.payload.get("record", {})),
        facility_code=str(item.payload.get("facility_code", "")),
        actor=actor,
    )
    return person.pk


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
        persons_changed([person.pk])
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
