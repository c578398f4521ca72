"""Instance-level interactions of the FHIR API: read, vread, update (If-Match), PATCH (JSON
Patch), delete and instance history. `Patient/{id}` is read from the person registry."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.core.access import api_principal
from cityhealth.core.roles import Permission
from cityhealth.fhir import negotiation, patients
from cityhealth.fhir.access import access_of, guard_read
from cityhealth.fhir.common import (
    actor,
    checked_type,
    guard,
    request_body,
    resource_response,
    stored_response,
    stored_type,
)
from cityhealth.fhir.history import history_bundle
from cityhealth.fhir.outcome import fhir_response
from cityhealth.people.selectors import read_patient_resource
from cityhealth.records import selectors, services

router = Router()
# What `Prefer: return=OperationOutcome` reports after a write, by status.
_DONE = {200: "Updated.", 201: "Created."}


@router.get("/{resource_type}/{logical_id}", url_name="read")
def read(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    if checked_type(resource_type) == "Patient":
        guard_read(
            request,
            resource_type="Patient",
            logical_id=logical_id,
            person_id=int(logical_id) if logical_id.isdigit() else None,
        )
        patient = read_patient_resource(
            principal=api_principal(request),
            person_id=int(logical_id) if logical_id.isdigit() else 0,
            source_ip=request.META.get("REMOTE_ADDR", ""),
        )
        return fhir_response(patient)
    found = selectors.read_resource_text(
        resource_type=checked_type(resource_type),
        logical_id=logical_id,
        accessor=access_of(request).consent,
    )
    return stored_response(request, found)


@router.put("/{resource_type}/{logical_id}", url_name="update")
def update(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    if resource_type == "Patient":  # the registry decides (fhir.patients)
        return patients.update_response(request, logical_id)
    who = actor(request, Permission.WRITE_RECORDS)
    written, created = services.update_resource(
        resource_type=stored_type(resource_type),
        logical_id=logical_id,
        body=request_body(request),
        source=who,
        if_match=negotiation.if_match(request),
    )
    status = 201 if created else 200
    response = resource_response(request, written, status=status)
    return negotiation.as_preferred(request, response, outcome=_DONE[status])


@router.patch("/{resource_type}/{logical_id}", url_name="patch")
def patch(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    """JSON Patch (`application/json-patch+json`); the result is checked like any write."""
    who = actor(request, Permission.WRITE_RECORDS)
    written = services.patch_resource(
        resource_type=stored_type(resource_type),
        logical_id=logical_id,
        operations=negotiation.patch_body(request),
        source=who,
        if_match=negotiation.if_match(request),
    )
    response = resource_response(request, written)
    return negotiation.as_preferred(request, response, outcome=_DONE[200])


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
    current = selectors.stored_resource(
        resource_type=stored_type(resource_type), logical_id=logical_id
    )
    guard(request, current)
    return fhir_response(
        history_bundle(request, resource_type=resource_type, logical_id=logical_id)
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
