"""System-level interactions of the FHIR API: the CapabilityStatement at /metadata."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from cityhealth.fhir.capability import capability_statement
from cityhealth.fhir.outcome import fhir_response

router = Router()


@router.get("/metadata", auth=None, url_name="metadata")
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(base=request.build_absolute_uri("/fhir/R4")))
