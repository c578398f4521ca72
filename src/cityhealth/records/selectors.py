"""Reads of the shared record: read, vread and history."""

from __future__ import annotations

from cityhealth.records import errors
from cityhealth.records.models import Resource, ResourceVersion


def read_resource(*, resource_type: str, logical_id: str) -> Resource:
    """The current version; NotFound if it never existed, ResourceGone if it was deleted."""
    found = Resource.objects.filter(resource_type=resource_type, logical_id=logical_id).first()
    if found is None:
        raise errors.resource_not_found(resource_type, logical_id)
    if found.deleted:
        raise errors.resource_gone(resource_type, logical_id)
    return found


def read_version(*, resource_type: str, logical_id: str, version_id: int) -> ResourceVersion:
    found = ResourceVersion.objects.filter(
        resource_type=resource_type, logical_id=logical_id, version_id=version_id
    ).first()
    if found is None:
        raise errors.resource_not_found(resource_type, f"{logical_id}/_history/{version_id}")
    if found.deleted:
        raise errors.resource_gone(resource_type, f"{logical_id}/_history/{version_id}")
    return found


def resource_history(*, resource_type: str, logical_id: str) -> list[ResourceVersion]:
    """Every version, newest first (deletions included, as FHIR's history shows them)."""
    versions = list(
        ResourceVersion.objects.filter(resource_type=resource_type, logical_id=logical_id).order_by(
            "-version_id"
        )
    )
    if not versions:
        raise errors.resource_not_found(resource_type, logical_id)
    return versions
