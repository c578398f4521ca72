"""Instance-level interactions of the FHIR API: create, read, vread, update (If-Match),
delete and instance history. `Patient/{id}` is read from the person registry."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.core.access import api_principal
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.common import (
    ETAG,
    actor,
    checked_type,
    request_body,
    resource_response,
    stored_type,
)
from cityhealth.fhir.outcome import fhir_response
from cityhealth.people.selectors import read_patient_resource
from cityhealth.records import selectors, services

router = Router()


@router.get("/{resource_type}/{logical_id}", url_name="read")
def read(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    if checked_type(resource_type) == "Patient":
        patient = read_patient_resource(
            principal=api_principal(request),
            person_id=int(logical_id) if logical_id.isdigit() else 0,
            source_ip=request.META.get("REMOTE_ADDR", ""),
        )
        return fhir_response(patient)
    found = selectors.read_resource(
        resource_type=checked_type(resource_type), logical_id=logical_id
    )
    return resource_response(request, found)


@router.put("/{resource_type}/{logical_id}", url_name="update")
def update(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    who = actor(request, Permission.WRITE_RECORDS)
    if_match = request.headers.get("If-Match")
    version = None
    if if_match:
        matched = ETAG.match(if_match.strip())
        if matched is None:
            raise InvalidInput(
                "request.bad_if_match",
                vi='If-Match phải có dạng W/"số phiên bản".',
                en='If-Match is W/"version number".',
                field="If-Match",
            )
        version = int(matched[1])
    written, created = services.update_resource(
        resource_type=stored_type(resource_type),
        logical_id=logical_id,
        body=request_body(request),
        source=who,
        if_match=version,
    )
    return resource_response(request, written, status=201 if created else 200)


@router.delete("/{resource_type}/{logical_id}", url_name="delete")
def delete(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    who = actor(request, Permission.WRITE_RECORDS)
    services.delete_resource(
        resource_type=stored_type(resource_type), logical_id=logical_id, source=who
    )
    return HttpResponse(status=204)


@router.get("/{resource_type}/{logical_id}/_history", url_name="history")
def history(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    versions = selectors.resource_history(
        resource_type=stored_type(resource_type), logical_id=logical_id
    )
    entries = []
    for v in versions:
        entry: dict[str, Any] = {
            "fullUrl": request.build_absolute_uri(f"/fhir/R4/{v.resource_type}/{v.logical_id}"),
            "request": {"method": v.method, "url": f"{v.resource_type}/{v.logical_id}"},
            "response": {
                "status": "204" if v.deleted else "200",
                "etag": f'W/"{v.version_id}"',
                "lastModified": v.last_updated.isoformat(),
            },
        }
        if v.body is not None:
            entry["resource"] = v.body
        entries.append(entry)
    return fhir_response(
        {"resourceType": "Bundle", "type": "history", "total": len(entries), "entry": entries}
    )


@router.get("/{resource_type}/{logical_id}/_history/{version_id}", url_name="vread")
def vread(
    request: HttpRequest, resource_type: str, logical_id: str, version_id: int
) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    found = selectors.read_version(
        resource_type=stored_type(resource_type),
        logical_id=logical_id,
        version_id=version_id,
    )
    return resource_response(request, found)
