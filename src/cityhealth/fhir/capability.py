"""The CapabilityStatement at /metadata: exactly what is implemented, nothing more."""

from __future__ import annotations

from typing import Any

from cityhealth.records.types import SUPPORTED_TYPES

INTERACTIONS = ("read", "vread", "create", "update", "delete", "history-instance")
SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"


def capability_statement(*, base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-26",
        "kind": "instance",
        "software": {"name": "cityhealth"},
        "implementation": {"description": "cityhealth shared health record", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": SECURITY,
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "Bearer tokens of API clients (scopes read_records, write_records) "
                        "or a staff session."
                    ),
                },
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}],
                        "documentation": (
                            "The person registry's persons, id = the person's id; written "
                            "through the registry (/api/people), never here."
                        ),
                    },
                    *(
                        {
                            "type": resource_type,
                            "interaction": [{"code": code} for code in INTERACTIONS],
                            "versioning": "versioned-update",
                            "readHistory": True,
                            "updateCreate": True,
                        }
                        for resource_type in SUPPORTED_TYPES
                        if resource_type != "Patient"
                    ),
                ],
            }
        ],
    }
