"""The CapabilityStatement at /metadata: exactly what is implemented, nothing more."""

from __future__ import annotations

from typing import Any

from cityhealth.fhir.search import search_capability
from cityhealth.records.types import SUPPORTED_TYPES

INTERACTIONS = ("read", "vread", "create", "update", "patch", "delete", "history-instance",
                "history-type")  # fmt: skip
SYSTEM_INTERACTIONS = ("transaction", "batch", "history-system")
SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


# The access trail, written by the server for every access (never through the API).
AUDIT_EVENT: dict[str, Any] = {
    "type": "AuditEvent",
    "interaction": [{"code": "read"}, {"code": "search-type"}],
    "searchParam": [
        {"name": "patient", "type": "reference"},
        {"name": "date", "type": "date"},
        {"name": "agent", "type": "token", "documentation": "client:<id> or user:<id>"},
        {"name": "entity", "type": "reference"},
    ],
    "documentation": (
        "The server's access trail (IHE BALP-shaped): one AuditEvent per access, read and "
        "searched only; newest first, paged with _count."
    ),
}


def security(*, base: str) -> dict[str, Any]:
    """SMART on FHIR: OAuth2 client credentials at the token URL (decision 0006)."""
    token = base.removesuffix("/fhir/R4") + "/oauth/token"
    return {
        "extension": [{"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": token}]}],
        "service": [
            {"coding": [{"system": SECURITY, "code": "SMART-on-FHIR"}]},
            {"coding": [{"system": SECURITY, "code": "OAuth"}]},
        ],
        "description": (
            "OAuth2 client credentials at the token URL (HTTP Basic or form client "
            "authentication), SMART scopes v1 and v2 (system/, user/, patient/ for a "
            "resident's own record; read_records and write_records mean system/*.rs and "
            "system/*.cud), or a staff session. Headers: X-Purpose-Of-Use (v3 ActReason, "
            "default TREAT), X-Break-Glass: <reason>. Consent resources are enforced; every "
            "access is an AuditEvent. Configuration: .well-known/smart-configuration."
        ),
    }


def capability_statement(*, base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-26",
        "kind": "instance",
        "software": {"name": "cityhealth"},
        "implementation": {"description": "cityhealth shared health record", "url": base},
        "fhirVersion": "4.0.1",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "format": ["application/fhir+json", "application/json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "security": security(base=base),
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [
                            {"code": code} for code in ("read", "create", "update", "search-type")
                        ],
                        **search_capability("Patient"),
                        "conditionalCreate": True,
                        "conditionalUpdate": True,
                        "documentation": (
                            "The person registry's persons, id = the person's id. A Patient "
                            "sent (create, update, conditional create or update, transaction "
                            "entry) is "
                            "matched by the registry: linked to its person (200), registered "
                            "(201), or, when the match is uncertain, registered provisionally "
                            "(201) and put before a clerk, who may merge it later (it then "
                            "becomes inactive, replaced-by the survivor). An update must be "
                            "confirmed by the matcher (409 otherwise); the registry's values "
                            "are kept. Never patched or deleted here. "
                            + search_capability("Patient")["documentation"]
                        ),
                        **operations_of("Patient"),
                    },
                    *(
                        {
                            "type": resource_type,
                            "interaction": [
                                *({"code": code} for code in INTERACTIONS),
                                {"code": "search-type"},
                            ],
                            **search_capability(resource_type),
                            "versioning": "versioned-update",
                            "readHistory": True,
                            "updateCreate": True,
                            "conditionalCreate": True,
                            "conditionalUpdate": True,
                            "conditionalDelete": "multiple",
                            **operations_of(resource_type),
                        }
                        for resource_type in SUPPORTED_TYPES
                        if resource_type not in ("Patient", "AuditEvent")
                    ),
                    AUDIT_EVENT,
                ],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "operation": [{"name": "export", "definition": f"{BULK}/export"}],
            }
        ],
    }


BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
_OPERATIONS: dict[str, list[dict[str, str]]] = {
    "Patient": [
        {
            "name": "everything",
            "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        },
        {"name": "export", "definition": f"{BULK}/patient-export"},
        {"name": "match", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-match"},
    ],
    "Group": [{"name": "export", "definition": f"{BULK}/group-export"}],
}
_SUBSCRIPTION = (
    " Channel: rest-hook only (endpoint http or https, header sent with each notification; "
    "payload empty: an empty POST to the endpoint; application/fhir+json: the matching "
    "version PUT to endpoint/{type}/{id}). A requested Subscription is checked and made "
    "active as it is written; notifications go out in write order, retried with "
    "exponential backoff, each try logged; repeated failure sets status error."
)


def operations_of(resource_type: str) -> dict[str, Any]:
    """The operations a type's entry declares (and how Subscriptions are delivered)."""
    extra: dict[str, Any] = {}
    if resource_type in _OPERATIONS:
        extra["operation"] = _OPERATIONS[resource_type]
    if resource_type == "Subscription":
        searched = search_capability(resource_type).get("documentation", "")
        extra["documentation"] = (searched + _SUBSCRIPTION).strip()
    return extra
