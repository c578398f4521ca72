"""Type-level interactions of the FHIR API: everything addressed to `/{resource_type}`.

All methods on one path must live in one router (Django picks the first pattern whose path
matches, whatever the method), so create, search and the conditional interactions on a type
are routed here and do their work in their own modules.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.core.errors import InvalidInput
from cityhealth.core.roles import Permission
from cityhealth.fhir.common import actor, request_body, resource_response, stored_type
from cityhealth.records import services

router = Router()


@router.post("/{resource_type}", url_name="create")
def create(request: HttpRequest, resource_type: str) -> HttpResponse:
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
    created = services.create_resource(body=body, source=who)
    return resource_response(request, created, status=201)
