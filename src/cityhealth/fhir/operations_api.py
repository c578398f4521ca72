"""Operations of the FHIR API on a type or an instance (`$match`, `$everything`, `$export`)."""

from __future__ import annotations

import json

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Router

from cityhealth.core.access import api_principal
from cityhealth.fhir import everything as everything_op
from cityhealth.fhir import export, patients
from cityhealth.fhir.access import authorize, note_person
from cityhealth.fhir.negotiation import serves_ndjson
from cityhealth.fhir.outcome import FHIR_JSON, outcome_response
from cityhealth.records.search import count_parameter

router = Router()
BASE = "/fhir/R4"


@router.post("/Patient/$match", url_name="patient_match")
def patient_match(request: HttpRequest) -> HttpResponse:
    """IHE PDQm ITI-119: the registry's candidates for a Patient, graded."""
    return patients.match_response(request)


@router.get("/Patient/{logical_id}/$everything", url_name="patient_everything")
def patient_everything(request: HttpRequest, logical_id: str) -> HttpResponse:
    access = authorize(request, resource_type="Patient", interaction="operation")
    query = request.GET
    person_id = int(logical_id) if logical_id.isdigit() else 0
    note_person(request, person_id or None)
    bundle = everything_op.everything(
        principal=api_principal(request),
        accessor=access.consent,
        person_id=person_id,
        base=request.build_absolute_uri(BASE),
        since=everything_op.parse_instant(query.get("_since"), field="_since"),
        types=everything_op.parse_types(query.get("_type")),
        count=count_parameter(
            query.get("_count"),
            default=everything_op.DEFAULT_COUNT,
            least=1,
            most=everything_op.MAX_COUNT,
        ),
        cursor=int(query["_cursor"]) if query.get("_cursor", "").isdigit() else 0,
        source_ip=access.source_ip,
    )
    return HttpResponse(bundle, content_type=FHIR_JSON)


def _kick_off(request: HttpRequest, *, level: str, group_id: str = "") -> HttpResponse:
    # Asynchronous whether or not `Prefer: respond-async` is sent: an export is never
    # answered inline.
    access = authorize(request, resource_type=None, interaction="operation")
    asked = export.parse_request(level=level, group_id=group_id, query=dict(request.GET.lists()))
    job = export.kick_off(
        owner=access.actor,
        accessor=access.consent,
        request_url=request.build_absolute_uri(),
        asked=asked,
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(f"{BASE}/$export-status/{job.pk}")
    return response


@router.get("/$export", url_name="export")
def system_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, level="system")


@router.get("/Patient/$export", url_name="patient_export")
def patient_export(request: HttpRequest) -> HttpResponse:
    return _kick_off(request, level="patient")


@router.get("/Group/{group_id}/$export", url_name="group_export")
def group_export(request: HttpRequest, group_id: str) -> HttpResponse:
    return _kick_off(request, level="group", group_id=group_id)


@router.get("/$export-status/{job_id}", url_name="export_status")
def export_status(request: HttpRequest, job_id: str) -> HttpResponse:
    access = authorize(request, resource_type=None, interaction="operation")
    job = export.job_of(owner=access.actor, job_id=job_id)
    export.resume_if_stalled(job=job)
    if job.status == job.Status.COMPLETED:
        response = HttpResponse(
            json.dumps(export.manifest(job=job, base=request.build_absolute_uri(BASE))),
            content_type="application/json",
        )
        return response
    if job.status == job.Status.FAILED:
        return outcome_response(status=500, diagnostics=job.error, code="export.failed")
    response = HttpResponse(status=202)
    response["X-Progress"] = export.progress(job)
    response["Retry-After"] = "5"
    return response


@router.delete("/$export-status/{job_id}", url_name="export_cancel")
def export_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    access = authorize(request, resource_type=None, interaction="operation")
    export.cancel(job=export.job_of(owner=access.actor, job_id=job_id))
    return HttpResponse(status=202)


@router.get("/$export-file/{job_id}/{name}", url_name="export_file")
@serves_ndjson
def export_file(request: HttpRequest, job_id: str, name: str) -> HttpResponseBase:
    access = authorize(request, resource_type=None, interaction="operation")
    path = export.file_path(job=export.job_of(owner=access.actor, job_id=job_id), name=name)
    return FileResponse(path.open("rb"), content_type=export.NDJSON_FORMATS[0])
