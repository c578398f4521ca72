"""Merging two records of one human, and undoing it."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from cityhealth.core import clock
from cityhealth.people import errors
from cityhealth.people.enums import (
    IdentifierStatus,
)
from cityhealth.people.hooks import persons_changed
from cityhealth.people.models import (
    Guardianship,
    InsuranceCard,
    Merge,
    Person,
    PersonIdentifier,
)
from cityhealth.people.selectors import (
    clean_text,
)
from cityhealth.people.services._shared import _audit, _lock, _require_reason


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
    persons_changed([retired.pk, survivor.pk])
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
    persons_changed([retired.pk, survivor.pk])
    return merge


def _put_back(rows: QuerySet[Any], ids: list[int], **target: Person) -> None:
    changed = rows.filter(pk__in=ids).update(**target)
    if changed != len(ids):
        raise errors.merge_cannot_undo(
            why_vi="một phần dữ liệu đã chuyển đi từ sau lần gộp.",
            why_en="some of what moved has been moved again since.",
        )


# --- the review queue ----------------------------------------------------------------------
