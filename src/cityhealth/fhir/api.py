"""The FHIR R4 REST API at /fhir/R4/ over the shared record's store: read, vread, create,
update (If-Match), delete and instance history; `GET /metadata` without authentication.

Hospital systems authenticate with a bearer token whose client holds `read_records` /
`write_records`; staff with their session. Every answer is `application/fhir+json`; every
error an OperationOutcome (`outcome.py`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.capability import capability_statement
from cityhealth.fhir.outcome import fhir_response
from cityhealth.people.selectors import read_patient_resource
from cityhealth.records import selectors, services
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.types import SUPPORTED_TYPES

router = Router()
_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def _actor(request: HttpRequest, permission: Permission) -> str:
    principal = api_principal(request)
    ensure_permission(principal, permission)
    return actor_of(principal)


def _type(resource_type: str) -> str:
    if resource_type not in SUPPORTED_TYPES:
        raise InvalidInput(
            "resource.unsupported_type",
            vi=f"Máy chủ không có loại tài nguyên «{resource_type[:64]}».",
            en=f"This server has no “{resource_type[:64]}” resources.",
        )
    return resource_type


def _stored_type(resource_type: str) -> str:
    """A type the store keeps. Patients are the person registry's: written there (matched,
    never duplicated), read here from it."""
    if _type(resource_type) == "Patient":
        raise InvalidInput(
            "patient.from_registry",
            vi="Người bệnh thuộc sổ đăng ký nhân khẩu: gửi qua POST /api/people/match "
            "hoặc /api/people; ở đây chỉ đọc.",
            en="Patients belong to the person registry: send them to POST /api/people/match "
            "or /api/people; here they are read only.",
            field="resourceType",
        )
    return resource_type


def _body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "request.malformed_body",
            vi="Nội dung gửi lên không phải JSON hợp lệ.",
            en="The request body is not valid JSON.",
        ) from None


def _resource_response(
    request: HttpRequest, row: Resource | ResourceVersion, *, status: int = 200
) -> HttpResponse:
    assert row.body is not None
    response = fhir_response(row.body, status=status)
    response["ETag"] = f'W/"{row.version_id}"'
    response["Last-Modified"] = row.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    location = f"/fhir/R4/{row.resource_type}/{row.logical_id}/_history/{row.version_id}"
    if status == 201:
        response["Location"] = request.build_absolute_uri(location)
    return response


@router.get("/metadata", auth=None, url_name="metadata")
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(base=request.build_absolute_uri("/fhir/R4")))


@router.post("/{resource_type}", url_name="create")
def create(request: HttpRequest, resource_type: str) -> HttpResponse:
    actor = _actor(request, Permission.WRITE_RECORDS)
    body = _body(request)
    if isinstance(body, dict) and body.get("resourceType") not in (
        None,
        _stored_type(resource_type),
    ):
        raise InvalidInput(
            "resource.type_mismatch",
            vi="Loại tài nguyên trong nội dung khác với đường dẫn.",
            en="The body's resourceType differs from the URL's.",
            field="resourceType",
        )
    created = services.create_resource(body=body, source=actor)
    return _resource_response(request, created, status=201)


@router.get("/{resource_type}/{logical_id}", url_name="read")
def read(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    _actor(request, Permission.READ_RECORDS)
    if _type(resource_type) == "Patient":
        patient = read_patient_resource(
            principal=api_principal(request),
            person_id=int(logical_id) if logical_id.isdigit() else 0,
            source_ip=request.META.get("REMOTE_ADDR", ""),
        )
        return fhir_response(patient)
    found = selectors.read_resource(resource_type=_type(resource_type), logical_id=logical_id)
    return _resource_response(request, found)


@router.put("/{resource_type}/{logical_id}", url_name="update")
def update(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    actor = _actor(request, Permission.WRITE_RECORDS)
    if_match = request.headers.get("If-Match")
    version = None
    if if_match:
        matched = _ETAG.match(if_match.strip())
        if matched is None:
            raise InvalidInput(
                "request.bad_if_match",
                vi='If-Match phải có dạng W/"số phiên bản".',
                en='If-Match is W/"version number".',
                field="If-Match",
            )
        version = int(matched[1])
    written, created = services.update_resource(
        resource_type=_stored_type(resource_type),
        logical_id=logical_id,
        body=_body(request),
        source=actor,
        if_match=version,
    )
    return _resource_response(request, written, status=201 if created else 200)


@router.delete("/{resource_type}/{logical_id}", url_name="delete")
def delete(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    actor = _actor(request, Permission.WRITE_RECORDS)
    services.delete_resource(
        resource_type=_stored_type(resource_type), logical_id=logical_id, source=actor
    )
    return HttpResponse(status=204)


@router.get("/{resource_type}/{logical_id}/_history", url_name="history")
def history(request: HttpRequest, resource_type: str, logical_id: str) -> HttpResponse:
    _actor(request, Permission.READ_RECORDS)
    versions = selectors.resource_history(
        resource_type=_stored_type(resource_type), logical_id=logical_id
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
    _actor(request, Permission.READ_RECORDS)
    found = selectors.read_version(
        resource_type=_stored_type(resource_type), logical_id=logical_id, version_id=version_id
    )
    return _resource_response(request, found)
