"""What every part of the FHIR API shares: who is calling, which type a URL names, the
request body, and a resource as an answer (ETag, Last-Modified, Location)."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse

from cityhealth.core import exactjson
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.access import Touched, authorize, guard_read, guard_write, interaction_of
from cityhealth.fhir.negotiation import require_body_type
from cityhealth.fhir.outcome import fhir_response
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.selectors import StoredText
from cityhealth.records.types import SUPPORTED_TYPES


def actor(request: HttpRequest, permission: Permission) -> str:
    """Who calls ("client:3", "user:12"), once authorized for what the request does: its
    resource type and interaction, read from the route (`fhir.access`). 401/403 otherwise."""
    resource_type, interaction = interaction_of(request)
    return authorize(
        request, resource_type=resource_type, interaction=interaction, permission=permission
    ).actor


def checked_type(resource_type: str) -> str:
    if resource_type not in SUPPORTED_TYPES:
        raise InvalidInput(
            "resource.unsupported_type",
            vi=f"Máy chủ không có loại tài nguyên «{resource_type[:64]}».",
            en=f"This server has no “{resource_type[:64]}” resources.",
        )
    return resource_type


def stored_type(resource_type: str) -> str:
    """A type the store keeps. Patients are the person registry's: written there (matched,
    never duplicated), read here from it. AuditEvents are the access trail (`fhir.trail`)."""
    if checked_type(resource_type) == "Patient":
        raise InvalidInput(
            "patient.from_registry",
            vi="Người bệnh thuộc sổ đăng ký nhân khẩu: chỉ gửi được bằng POST /Patient hoặc "
            "PUT /Patient/{id} (sổ đăng ký đối chiếu); không sửa từng phần hay xoá ở đây.",
            en="Patients belong to the person registry: send them with POST /Patient or "
            "PUT /Patient/{id} (the registry matches them); never patched or deleted here.",
            field="resourceType",
        )
    if resource_type == "AuditEvent":
        raise InvalidInput(
            "audit.server_generated",
            vi="AuditEvent là nhật ký truy cập do máy chủ ghi; chỉ đọc và tìm kiếm.",
            en="AuditEvents are the server's own access trail: read and searched only.",
            field="resourceType",
        )
    return resource_type


def request_body(request: HttpRequest) -> Any:
    require_body_type(request)
    try:
        return exactjson.loads(request.body or b"null")  # decimals keep their precision
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "request.malformed_body",
            vi="Nội dung gửi lên không phải JSON hợp lệ.",
            en="The request body is not valid JSON.",
        ) from None


def guard(request: HttpRequest, row: Resource | ResourceVersion) -> None:
    """A read is answered only if the caller may see the resource (404 otherwise, as for a
    missing one: `fhir.access.guard_read`); a write notes whose record it touched. Every
    single resource leaves through `resource_response`, which calls this."""
    person_id = (
        row.person_id
        if isinstance(row, Resource)
        else Resource.objects.filter(pk=row.resource_id).values_list("person_id", flat=True)[0]
    )
    if request.method in ("GET", "HEAD"):
        guard_read(
            request, resource_type=row.resource_type, logical_id=row.logical_id, person_id=person_id
        )
    else:
        guard_write(request, Touched(person_id, row.logical_id, row.version_id))


def stored_response(request: HttpRequest, row: StoredText) -> HttpResponse:
    """A read answered from the stored JSON text (`guard_read` first)."""
    guard_read(
        request,
        resource_type=row.resource_type,
        logical_id=row.logical_id,
        person_id=row.person_id,
        visible=row.visible,
    )
    # The stored text as it is (as a search embeds it): parsing and re-encoding it cost a
    # read 30 µs for nothing.
    response = fhir_response(orjson.Fragment(row.body))
    _stamp(response, row)
    return response


def resource_response(
    request: HttpRequest, row: Resource | ResourceVersion, *, status: int = 200
) -> HttpResponse:
    assert row.body is not None
    guard(request, row)
    response = fhir_response(row.body, status=status)
    _stamp(response, row)
    if status == 201:
        location = f"/fhir/R4/{row.resource_type}/{row.logical_id}/_history/{row.version_id}"
        response["Location"] = request.build_absolute_uri(location)
    return response


def _stamp(response: HttpResponse, row: Resource | ResourceVersion | StoredText) -> None:
    response["ETag"] = f'W/"{row.version_id}"'
    response["Last-Modified"] = row.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
