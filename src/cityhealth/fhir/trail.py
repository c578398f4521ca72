"""The access trail of the FHIR API: a row for every request, served as AuditEvent.

`AccessTrailMiddleware` writes the row after the response is made, outside the request's
transaction, so that a refused or failed request (rolled back) leaves its row too, with the
status it got. Successful writes and every break-glass access also get an entry in the
platform's tamper-evident audit log (`core.audit`). `audit_event` renders a row as an
AuditEvent shaped after IHE Basic Audit Log Patterns (BALP).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException

from cityhealth.accounts.selectors import actor_label_of, actor_of
from cityhealth.core import clock
from cityhealth.core.access import api_principal
from cityhealth.core.audit import record_audit
from cityhealth.fhir.access import current_access, interaction_of, touched_by
from cityhealth.records.models import AccessEvent
from cityhealth.records.trail import AccessRow, record_access

FHIR_PREFIX = "/fhir/R4/"
OPEN_PATHS = frozenset({"metadata", ".well-known/smart-configuration"})
WRITES = frozenset({"create", "update", "patch", "delete", "batch"})
QUERIES = frozenset({"search-type", "search-system", "history-type", "history-system"})
PROVIDER_CODE = "http://fhir.ehealth.gov.vn/core/sid/provider-code"
ACTOR_SYSTEM = "urn:cityhealth:actor"
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_BALP = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."


def _person_in_query(query: str) -> int | None:
    for name, value in parse_qsl(query):
        if name.split(":")[0] in ("patient", "subject"):
            logical_id = value.rpartition("/")[2]
            if logical_id.isdigit():
                return int(logical_id)
    return None


def access_row(request: HttpRequest, status: int) -> AccessRow:
    access = current_access(request)
    resource_type, interaction = interaction_of(request)
    kwargs = request.resolver_match.kwargs if request.resolver_match else {}
    query = request.META.get("QUERY_STRING", "") if interaction in QUERIES else ""
    if not query and request.path_info.endswith("/_search"):
        try:
            query = request.body.decode(errors="replace")
        except RawPostDataException:  # the view read the stream as a form: fields in POST
            query = request.POST.urlencode()
    touched = touched_by(request)
    person_id = touched.person_id if touched else None
    if (
        person_id is None
        and resource_type == "Patient"
        and str(kwargs.get("logical_id", "")).isdigit()
    ):
        person_id = int(kwargs["logical_id"])
    if person_id is None and query:
        person_id = _person_in_query(query)
    if person_id is None and access is not None:
        person_id = access.person_id
    principal = api_principal(request)
    version = str(kwargs.get("version_id", "") or (touched.version_id if touched else "") or "")
    logical_id = str(kwargs.get("logical_id", "") or (touched.logical_id if touched else ""))
    return AccessRow(
        occurred_at=clock.now(),
        actor=access.actor if access else actor_of(principal),
        actor_label=(access.actor_label if access else actor_label_of(principal))[:200],
        organization=access.organization if access else "",
        interaction=interaction,
        resource_type=(resource_type or "")[:64],
        logical_id=logical_id[:64],
        version_id=int(version) if version.isdigit() else None,
        query=query[:4000],
        person_id=person_id,
        purpose=access.purpose if access else "",
        break_glass=bool(access and access.break_glass_reason),
        reason=access.break_glass_reason if access else "",
        source_ip=request.META.get("REMOTE_ADDR", "")[:45],
        status=status,
    )


def _audit(row: AccessRow) -> None:
    record_audit(
        actor=row.actor,
        actor_label=row.actor_label,
        action="record.break_glass" if row.break_glass else f"record.{row.interaction}",
        target_type=row.resource_type or "system",
        target_id=row.logical_id,
        facility_code=row.organization[:20],
        reason=row.reason,
        source_ip=row.source_ip,
        details={
            "status": row.status,
            "person": row.person_id,
            "purpose": row.purpose,
            **({"query": row.query[:500]} if row.query else {}),
        },
    )


class AccessTrailMiddleware:
    """One access row per FHIR request (the open `metadata` and SMART configuration aside)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(FHIR_PREFIX) and path[len(FHIR_PREFIX) :] not in OPEN_PATHS:
            row = access_row(request, response.status_code)
            record_access(row)
            if row.break_glass or (row.interaction in WRITES and row.status < 300):
                _audit(row)
        return response


# --- rows as AuditEvent resources (IHE BALP) ---------------------------------------------------


def _code(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    return {"coding": [{**coding, "display": display} if display else coding]}


def _profile(row: AccessEvent) -> str:
    kind = {"create": "Create", "update": "Update", "patch": "Update", "delete": "Delete"}.get(
        row.interaction, "Read" if row.interaction in ("read", "vread") else "Query"
    )
    return f"{_BALP}{'Patient' if row.person_id is not None else ''}{kind}"


def audit_event(row: AccessEvent) -> dict[str, Any]:
    action = {"create": "C", "update": "U", "patch": "U", "delete": "D"}.get(
        row.interaction, "R" if row.interaction in ("read", "vread", "history-instance") else "E"
    )
    purposes = [_code(_ACT_REASON, row.purpose)] if row.purpose else []
    if row.break_glass:
        purposes.append({**_code(_ACT_REASON, "BTG", "break the glass"), "text": row.reason})
    agents: list[dict[str, Any]] = [
        {
            "type": _code(_DCM, "110153", "Source Role ID"),
            "who": {
                "identifier": {"system": ACTOR_SYSTEM, "value": row.actor},
                **({"display": row.actor_label} if row.actor_label else {}),
            },
            "requestor": True,
            **({"network": {"address": row.source_ip, "type": "2"}} if row.source_ip else {}),
        }
    ]
    if row.organization:
        agents.append(
            {
                "type": _code(
                    "http://terminology.hl7.org/CodeSystem/v3-RoleClass",
                    "PROV",
                    "healthcare provider",
                ),
                "who": {"identifier": {"system": PROVIDER_CODE, "value": row.organization}},
                "requestor": False,
            }
        )
    entities: list[dict[str, Any]] = []
    if row.resource_type and row.logical_id:
        reference = f"{row.resource_type}/{row.logical_id}"
        if row.version_id is not None:
            reference += f"/_history/{row.version_id}"
        entities.append(
            {
                "what": {"reference": reference},
                "type": _code(_ENTITY_TYPE, "2", "System Object"),
                "role": _code(_OBJECT_ROLE, "4", "Domain Resource"),
            }
        )
    if row.query:
        entities.append(
            {
                "type": _code(_ENTITY_TYPE, "2", "System Object"),
                "role": _code(_OBJECT_ROLE, "24", "Query"),
                "query": base64.b64encode(row.query.encode()).decode(),
                "description": f"{row.resource_type}?{row.query}"[:1000],
            }
        )
    if row.person_id is not None:
        entities.append(
            {
                "what": {"reference": f"Patient/{row.person_id}"},
                "type": _code(_ENTITY_TYPE, "1", "Person"),
                "role": _code(_OBJECT_ROLE, "1", "Patient"),
            }
        )
    return {
        "resourceType": "AuditEvent",
        "id": str(row.pk),
        "meta": {"profile": [_profile(row)]},
        "type": _code(
            "http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "RESTful Operation"
        ),
        "subtype": [_code("http://hl7.org/fhir/restful-interaction", row.interaction)],
        "action": action,
        "recorded": row.occurred_at.isoformat().replace("+00:00", "Z"),
        "outcome": "0" if row.status < 400 else "4" if row.status < 500 else "8",
        "outcomeDesc": f"HTTP {row.status}",
        **({"purposeOfEvent": purposes} if purposes else {}),
        "agent": [
            *agents,
            {
                "type": _code(_DCM, "110152", "Destination Role ID"),
                "who": {"display": "cityhealth FHIR server"},
                "requestor": False,
            },
        ],
        "source": {
            "observer": {"display": "cityhealth"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        **({"entity": entities} if entities else {}),
    }
