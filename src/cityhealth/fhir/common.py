"""What every part of the FHIR API shares: who is calling, which type a URL names, the
request body, and a resource as an answer (ETag, Last-Modified, Location)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from cityhealth.accounts.selectors import actor_of
from cityhealth.core.access import api_principal, ensure_permission
from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.outcome import fhir_response
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.types import SUPPORTED_TYPES

ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def actor(request: HttpRequest, permission: Permission) -> str:
    principal = api_principal(request)
    ensure_permission(principal, permission)
    return actor_of(principal)


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
    never duplicated), read here from it."""
    if checked_type(resource_type) == "Patient":
        raise InvalidInput(
            "patient.from_registry",
            vi="Người bệnh thuộc sổ đăng ký nhân khẩu: gửi qua POST /api/people/match "
            "hoặc /api/people; ở đây chỉ đọc.",
            en="Patients belong to the person registry: send them to POST /api/people/match "
            "or /api/people; here they are read only.",
            field="resourceType",
        )
    return resource_type


def request_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            "request.malformed_body",
            vi="Nội dung gửi lên không phải JSON hợp lệ.",
            en="The request body is not valid JSON.",
        ) from None


def resource_response(
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
