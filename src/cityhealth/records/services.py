"""Writes to the shared record. Keyword-only; they never commit (the caller's transaction
does). Each write appends a version row and replaces the current row, under a row lock on
the current row, so two writers of one resource queue instead of losing an update."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from cityhealth.core import clock
from cityhealth.records import bulk, errors, hooks, search
from cityhealth.records.hooks import on_rows_written as on_rows_written  # for other apps
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.patching import apply_json_patch
from cityhealth.records.validation import validate_resource


def create_resource(
    *, body: Any, source: str, at: dt.datetime | None = None, logical_id: str | None = None
) -> Resource:
    """Store a new resource under a server-assigned id (an `id` sent with it is ignored, as
    FHIR's create asks), or the id a transaction chose for it before writing."""
    checked = validate_resource(body)
    resource_type = checked["resourceType"]
    logical_id = logical_id or uuid.uuid4().hex
    return _write(resource_type, logical_id, checked, source=source, method="POST", at=at)


def update_resource(
    *,
    resource_type: str,
    logical_id: str,
    body: Any,
    source: str,
    if_match: int | None = None,
    at: dt.datetime | None = None,
) -> tuple[Resource, bool]:
    """Replace the resource (or create it under this id: update as create); with `if_match`,
    only if that is still its current version. (resource, created)."""
    checked = validate_resource(body)
    if checked["resourceType"] != resource_type or checked.get("id", logical_id) != logical_id:
        raise errors.InvalidResource(
            issues=[
                (
                    f"{resource_type}.id",
                    errors.Said(
                        f"the body is not {resource_type}/{logical_id} of the URL",
                        f"nội dung gửi lên không phải {resource_type}/{logical_id} của URL",
                    ),
                )
            ]
        )
    current = (
        Resource.objects.select_for_update()
        .filter(resource_type=resource_type, logical_id=logical_id)
        .first()
    )
    if if_match is not None and (current is None or current.version_id != if_match):
        raise errors.version_conflict(
            expected=if_match, current=current.version_id if current else 0
        )
    written = _write(
        resource_type, logical_id, checked, source=source, method="PUT", at=at, current=current
    )
    return written, current is None


def delete_resource(
    *, resource_type: str, logical_id: str, source: str, at: dt.datetime | None = None
) -> Resource | None:
    """Mark the resource deleted (a new version without a body); None if it never existed.
    Deleting twice changes nothing."""
    current = (
        Resource.objects.select_for_update()
        .filter(resource_type=resource_type, logical_id=logical_id)
        .first()
    )
    if current is None or current.deleted:
        return current
    when = at or clock.now()
    current.version_id += 1
    current.deleted = True
    current.last_updated = when
    current.source = source[:200]
    current.save(update_fields=["version_id", "deleted", "last_updated", "source"])
    ResourceVersion.objects.create(
        resource=current,
        resource_type=resource_type,
        logical_id=logical_id,
        version_id=current.version_id,
        last_updated=when,
        source=current.source,
        method="DELETE",
        deleted=True,
        body=None,
    )
    search.index_resource(current)
    hooks.rows_written([current])
    return current


def _write(
    resource_type: str,
    logical_id: str,
    checked: dict[str, Any],
    *,
    source: str,
    method: str,
    at: dt.datetime | None,
    current: Resource | None = None,
) -> Resource:
    when = at or clock.now()
    version = (current.version_id if current else 0) + 1
    body = _stamped(checked, logical_id, version=version, when=when, source=source)
    person_id = search.person_for(resource_type, logical_id, body)
    if current is None:
        try:
            with transaction.atomic():
                current = Resource.objects.create(
                    resource_type=resource_type,
                    logical_id=logical_id,
                    version_id=version,
                    last_updated=when,
                    source=source[:200],
                    person_id=person_id,
                    body=body,
                )
        except IntegrityError:  # created by another writer a moment ago: it is an update
            raise errors.version_conflict(expected=0, current=1) from None
    else:
        current.version_id = version
        current.last_updated = when
        current.source = source[:200]
        current.deleted = False
        current.body = body
        current.person_id = person_id
        current.save(
            update_fields=["version_id", "last_updated", "source", "deleted", "body", "person"]
        )
    ResourceVersion.objects.create(
        resource=current,
        resource_type=resource_type,
        logical_id=logical_id,
        version_id=version,
        last_updated=when,
        source=current.source,
        method=method,
        body=body,
    )
    search.index_resource(current)
    hooks.rows_written([current])
    return current


def _stamped(
    checked: dict[str, Any], logical_id: str, *, version: int, when: dt.datetime, source: str
) -> dict[str, Any]:
    """The body as stored: its id and the server's meta (version, time, source)."""
    meta = dict(checked.get("meta") or {})
    meta.update(versionId=str(version), lastUpdated=when.isoformat().replace("+00:00", "Z"))
    if source:
        meta["source"] = source[:200]
    return {**checked, "id": logical_id, "meta": meta}


def patch_resource(
    *,
    resource_type: str,
    logical_id: str,
    operations: Any,
    source: str,
    if_match: int | None = None,
    at: dt.datetime | None = None,
) -> Resource:
    """Apply a JSON Patch to the current version and store the result as a new version
    (method PATCH), checked like any write. Nothing is written if any operation fails."""
    current = (
        Resource.objects.select_for_update()
        .filter(resource_type=resource_type, logical_id=logical_id)
        .first()
    )
    if current is None:
        raise errors.resource_not_found(resource_type, logical_id)
    if current.deleted:
        raise errors.resource_gone(resource_type, logical_id)
    if if_match is not None and current.version_id != if_match:
        raise errors.version_conflict(expected=if_match, current=current.version_id)
    patched = apply_json_patch(current.body, operations)
    if patched.get("resourceType") != resource_type or patched.get("id") != logical_id:
        raise errors.patch_failed(
            "patch.identity",
            index=len(operations) - 1,
            operation=operations[-1],
            reason="a patch may not change the resource's type or id",
        )
    checked = validate_resource(patched)
    return _write(
        resource_type, logical_id, checked, source=source, method="PATCH", at=at, current=current
    )


@dataclass(frozen=True)
class Checked:
    """A resource that passed validation, in the canonical form it will be stored in."""

    resource_type: str
    body: dict[str, Any]


def check_resource(*, body: Any) -> Checked:
    """Validate a resource before writing it, for callers that check a whole batch first
    (InvalidResource otherwise)."""
    checked = validate_resource(body)
    return Checked(resource_type=checked["resourceType"], body=checked)


# Types whose writes do more than store rows (their rules, their checks and activation before
# they are stored: the save signals' listeners): they are never written by the bulk path.
ONE_BY_ONE_TYPES = frozenset({"Consent", "Subscription"})


def create_many(
    *, resources: Sequence[tuple[str, Checked]], source: str, at: dt.datetime | None = None
) -> dt.datetime:
    """Store new checked resources under the ids given (chosen by the caller, e.g. before a
    transaction rewrites its references), by the store's bulk path: the ingest path of
    transaction Bundles. All get version 1 at one instant, which is returned. A resource
    whose compartment reference names no person is refused with its `position`.

    The store's listeners (`records.hooks`) hear of the rows as of any write."""
    when = at or clock.now()
    items = [(checked.resource_type, logical_id, checked.body) for logical_id, checked in resources]
    if any(resource_type in ONE_BY_ONE_TYPES for resource_type, _, _ in items):
        raise ValueError(f"create_many cannot write {', '.join(sorted(ONE_BY_ONE_TYPES))}")
    try:
        people = search.people_for(items)
    except errors.InvalidResource:
        for position, item in enumerate(items):  # which one: ask again, one by one
            try:
                search.people_for([item])
            except errors.InvalidResource as refused:
                raise errors.InvalidResource(issues=refused.issues, position=position) from None
        raise
    new = [
        bulk.NewResource(body={**body, "id": logical_id}, person_id=person_id)
        for (_, logical_id, body), person_id in zip(items, people, strict=True)
    ]
    bulk.write_new_resources(resources=new, source=source, trusted=True, at=when)
    return when


# Past this many searches of one type in one transaction, it locks the whole type instead of
# one lock per search: PostgreSQL's lock table is small (64 per connection by default).
_LOCKS_PER_TYPE = 32


def lock_criteria(*, criteria: Collection[tuple[str, str]]) -> None:
    """Hold, until the transaction ends, the right to act on the result of these searches
    ((resource type, normalised query) pairs), so that two conditional creates of one
    identifier cannot both find nothing and both create. SQLite needs nothing: its writers
    already hold the database's one write lock from the start of the transaction."""
    if connection.vendor != "postgresql" or not criteria:
        return
    by_type: dict[str, set[str]] = {}
    for resource_type, query in criteria:
        by_type.setdefault(resource_type, set()).add(query)
    # key → exclusive? A transaction with many searches of a type takes the type's key
    # exclusively; one with few shares the type's key and takes each search's key alone.
    keys: dict[int, bool] = {}
    for resource_type, queries in by_type.items():
        if len(queries) > _LOCKS_PER_TYPE:
            keys[_lock_key(resource_type)] = True
        else:
            keys.setdefault(_lock_key(resource_type), False)
            keys.update((_lock_key(resource_type, query), True) for query in queries)
    # One order (by key, whatever the mode) for every transaction: no two can deadlock.
    with connection.cursor() as cursor:
        for key in sorted(keys):
            shared = "" if keys[key] else "_shared"
            cursor.execute(f"SELECT pg_advisory_xact_lock{shared}(%s)", [key])


def _lock_key(resource_type: str, query: str | None = None) -> int:
    text = resource_type if query is None else f"{resource_type}?{query}"
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def project_patient(*, person_id: int) -> Resource:
    """Write or refresh `Patient/{person_id}` from the person registry (`records.patients`,
    which imports this module: hence the import here)."""
    from cityhealth.records.patients import project_patient as project

    return project(person_id=person_id)
