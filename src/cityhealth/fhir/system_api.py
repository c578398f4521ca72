"""System-level interactions of the FHIR API: the CapabilityStatement at /metadata, batch and
transaction Bundles posted to the base URL, and the history of the whole store."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Router

from cityhealth.core.roles import Permission
from cityhealth.fhir import bundles
from cityhealth.fhir.capability import capability_statement
from cityhealth.fhir.common import actor, request_body
from cityhealth.fhir.history import history_bundle
from cityhealth.fhir.outcome import fhir_response

router = Router()


@router.get("/metadata", auth=None, url_name="metadata")
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability_statement(base=request.build_absolute_uri("/fhir/R4")))


@router.post("", url_name="batch")
def batch(request: HttpRequest) -> HttpResponse:
    """A batch or transaction Bundle. Each entry is authorized on its own; a transaction
    that fails answers with its failing entry's OperationOutcome and saves nothing."""
    who = actor(request, Permission.READ_RECORDS)
    language = request.headers.get("Accept-Language") or get_language()
    with bundles.collector_paused():
        try:
            answer = bundles.process(
                request, body=request_body(request), source=who, language=language
            )
        except bundles.EntryFailed as failed:
            outcome = bundles.failure_outcome(failed, language=language)
            return fhir_response(outcome, status=failed.error.status_code)
        return fhir_response(answer)


@router.get("/_history", url_name="system_history")
def system_history(request: HttpRequest) -> HttpResponse:
    actor(request, Permission.READ_RECORDS)
    return fhir_response(history_bundle(request))
