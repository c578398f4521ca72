"""Type-level interactions of the FHIR API: everything addressed to `/{resource_type}`.

All methods on one path must live in one router (Django picks the first pattern whose path
matches, whatever the method), so create, search and the conditional interactions on a type
are routed here and do their work in their own modules.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.core.errors import InvalidInput, NotFound
from cityhealth.core.roles import Permission
from cityhealth.fhir import conditional, negotiation, patients
from cityhealth.fhir.access import guard_read
from cityhealth.fhir.common import (
    actor,
    checked_type,
    request_body,
    resource_response,
    stored_type,
)
from cityhealth.fhir.history import history_bundle
from cityhealth.fhir.outcome import fhir_response
from cityhealth.fhir.search import search_bundle
from cityhealth.records import services
from cityhealth.records.models import Resource

router = Router()


@router.get("/{resource_type}", url_name="search")
def search_type(request: HttpRequest, resource_type: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    return fhir_response(search_bundle(request, resource_type=checked_type(resource_type)))


@router.post("/{resource_type}/_search", url_name="search_post")
def search_type_post(request: HttpRequest, resource_type: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    return fhir_response(search_bundle(request, resource_type=checked_type(resource_type)))


@router.post("/{resource_type}", url_name="create")
def create(request: HttpRequest, resource_type: str) -> HttpResponse:
    if resource_type == "Patient":  # matched by the person registry, never stored as sent
        return patients.create_response(request)
    who = actor(request, Permission.WRITE_RECORDS)
    body = request_body(request)
    if isinstance(body, dict) and body.get("resourceType") not in (
        None,
        stored_type(resource_type),
    ):
        raise InvalidInput(
            "resource.type_mismatch",
            vi="Loại tài nguyên trong nội dung khác với đường dẫn.",
            en="The body's resourceType differs from the URL's.",
            field="resourceType",
        )
    if_none_exist = request.headers.get("If-None-Exist")
    if if_none_exist:  # conditional create: nothing written if the criteria match already
        query = conditional.criteria(if_none_exist)
        conditional.lock([(stored_type(resource_type), query)])
        found = conditional.existing_for_create(resource_type, query)
        if found is not None:
            return negotiation.as_preferred(
                request, existing_response(request, found), outcome="Exists already."
            )
    created = services.create_resource(body=body, source=who)
    response = resource_response(request, created, status=201)
    return negotiation.as_preferred(request, response, outcome="Created.")


@router.put("/{resource_type}", url_name="conditional_update")
def conditional_update(request: HttpRequest, resource_type: str) -> HttpResponse:
    """Update the one resource the criteria match (create if none; 412 if several)."""
    if resource_type == "Patient":  # the registry decides, as in a Bundle (fhir.patients)
        return patients.conditional_update_response(request)
    who = actor(request, Permission.WRITE_RECORDS)
    body = request_body(request)
    query = conditional.criteria(request.META.get("QUERY_STRING", ""))
    conditional.lock([(stored_type(resource_type), query)])
    written, created = services.update_resource(
        resource_type=resource_type,
        logical_id=conditional.target_for_update(resource_type, query, body),
        body=body,
        source=who,
        if_match=negotiation.if_match(request),
    )
    response = resource_response(request, written, status=201 if created else 200)
    return negotiation.as_preferred(
        request, response, outcome="Created." if created else "Updated."
    )


@router.patch("/{resource_type}", url_name="conditional_patch")
def conditional_patch(request: HttpRequest, resource_type: str) -> HttpResponse:
    """JSON Patch of the one resource the criteria match (404 if none, 412 if several)."""
    who = actor(request, Permission.WRITE_RECORDS)
    operations = negotiation.patch_body(request)
    query = conditional.criteria(request.META.get("QUERY_STRING", ""))
    target = conditional.single_target(stored_type(resource_type), query)
    written = services.patch_resource(
        resource_type=resource_type,
        logical_id=target.logical_id,
        operations=operations,
        source=who,
        if_match=negotiation.if_match(request),
    )
    response = resource_response(request, written)
    return negotiation.as_preferred(request, response, outcome="Updated.")


@router.delete("/{resource_type}", url_name="conditional_delete")
def conditional_delete(request: HttpRequest, resource_type: str) -> HttpResponse:
    """Delete the resource the criteria match (none: nothing to do); several only when the
    client asks with `_count=N`, up to the server's limit (412 beyond)."""
    who = actor(request, Permission.WRITE_RECORDS)
    query = conditional.criteria(request.META.get("QUERY_STRING", ""))
    targets = conditional.delete_targets(
        stored_type(resource_type),
        query,
        count=conditional.delete_count(request.GET.get("_count")),
    )
    for row in targets:
        services.delete_resource(resource_type=resource_type, logical_id=row.logical_id, source=who)
    return HttpResponse(status=204)


@router.get("/{resource_type}/_history", url_name="type_history")
def type_history(request: HttpRequest, resource_type: str) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    return fhir_response(history_bundle(request, resource_type=stored_type(resource_type)))


def existing_response(request: HttpRequest, found: Resource) -> HttpResponse:
    """A conditional create's answer when the resource exists: where it is and its version;
    its content only if the caller may read it (a write right alone shows nothing more)."""
    try:
        guard_read(
            request,
            resource_type=found.resource_type,
            logical_id=found.logical_id,
            person_id=found.person_id,
        )
        response = fhir_response(found.body)
    except NotFound:
        response = HttpResponse(status=200)
    response["ETag"] = f'W/"{found.version_id}"'
    response["Location"] = request.build_absolute_uri(
        f"/fhir/R4/{found.resource_type}/{found.logical_id}/_history/{found.version_id}"
    )
    return response
