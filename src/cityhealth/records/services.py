"""Writes to the shared record. Keyword-only; they never commit (the caller's transaction
does). Each write appends a version row and replaces the current row, under a row lock on
the current row, so two writers of one resource queue instead of losing an update."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from cityhealth.core import clock
from cityhealth.records import errors
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.validation import validate_resource


def create_resource(*, body: Any, source: str, at: dt.datetime | None = None) -> Resource:
    """Store a new resource under a server-assigned id (an `id` sent with it is ignored, as
    FHIR's create asks)."""
    checked = validate_resource(body)
    resource_type = checked["resourceType"]
    logical_id = uuid.uuid4().hex
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
            issues=[("id", f"the body is not {resource_type}/{logical_id} of the URL")]
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
    meta = dict(checked.get("meta") or {})
    meta.update(
        versionId=str(version),
        lastUpdated=when.isoformat().replace("+00:00", "Z"),
    )
    if source:
        meta["source"] = source[:200]
    body = {**checked, "id": logical_id, "meta": meta}
    if current is None:
        try:
            with transaction.atomic():
                current = Resource.objects.create(
                    resource_type=resource_type,
                    logical_id=logical_id,
                    version_id=version,
                    last_updated=when,
                    source=source[:200],
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
        current.save(update_fields=["version_id", "last_updated", "source", "deleted", "body"])
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
    return current
