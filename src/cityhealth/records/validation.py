"""Is this valid FHIR R4? Structure, data types and required elements by the `fhir.resources`
R4B models (there is no R4 package; the types served here are the same in both), plus the
required code bindings of the elements the models leave unchecked (decision 0005: they
accept `Observation.status = "nope"`)."""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from cityhealth.records import errors
from cityhealth.records.types import SUPPORTED_TYPES

LOGICAL_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

_REQUEST = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
_ORDER_INTENTS = ("proposal", "plan", "order", "original-order", "reflex-order",
                  "filler-order", "instance-order", "option")  # fmt: skip
# Required bindings (R4) of top-level codes: element → allowed codes.
REQUIRED_CODES: dict[str, dict[str, tuple[str, ...]]] = {
    "Patient": {"gender": ("male", "female", "other", "unknown")},
    "Practitioner": {"gender": ("male", "female", "other", "unknown")},
    "Observation": {"status": ("registered", "preliminary", "final", "amended", "corrected",
                               "cancelled", "entered-in-error", "unknown")},
    "Encounter": {"status": ("planned", "arrived", "triaged", "in-progress", "onleave",
                             "finished", "cancelled", "entered-in-error", "unknown")},
    "EpisodeOfCare": {"status": ("planned", "waitlist", "active", "onhold", "finished",
                                 "cancelled", "entered-in-error")},
    "Procedure": {"status": ("preparation", "in-progress", "not-done", "on-hold", "stopped",
                             "completed", "entered-in-error", "unknown")},
    "MedicationRequest": {
        "status": ("active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                   "draft", "unknown"),
        "intent": _ORDER_INTENTS,
    },
    "MedicationStatement": {"status": ("active", "completed", "entered-in-error", "intended",
                                       "stopped", "on-hold", "unknown", "not-taken")},
    "AllergyIntolerance": {"criticality": ("low", "high", "unable-to-assess")},
    "Immunization": {"status": ("completed", "entered-in-error", "not-done")},
    "DiagnosticReport": {"status": ("registered", "partial", "preliminary", "final", "amended",
                                    "corrected", "appended", "cancelled", "entered-in-error",
                                    "unknown")},
    "DocumentReference": {"status": ("current", "superseded", "entered-in-error")},
    "ServiceRequest": {"status": _REQUEST, "intent": ("directive", *_ORDER_INTENTS)},
    "Appointment": {"status": ("proposed", "pending", "booked", "arrived", "fulfilled",
                               "cancelled", "noshow", "entered-in-error", "checked-in",
                               "waitlist")},
    "Composition": {"status": ("preliminary", "final", "amended", "entered-in-error")},
    "Consent": {"status": ("draft", "proposed", "active", "rejected", "inactive",
                           "entered-in-error")},
    "Coverage": {"status": ("active", "cancelled", "draft", "entered-in-error")},
    "Location": {"status": ("active", "suspended", "inactive")},
    "AuditEvent": {"action": ("C", "R", "U", "D", "E")},
    "Subscription": {"status": ("requested", "active", "error", "off")},
}  # fmt: skip


def validate_resource(body: Any) -> dict[str, Any]:
    """The resource as FHIR JSON (the models' canonical form), or InvalidResource."""
    if not isinstance(body, dict):
        raise errors.InvalidResource(issues=[("", "a resource is a JSON object")])
    resource_type = body.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise errors.InvalidResource(issues=[("resourceType", "is missing")])
    if resource_type not in SUPPORTED_TYPES:
        raise errors.unsupported_type(resource_type[:64])
    if "id" in body and not (isinstance(body["id"], str) and LOGICAL_ID.fullmatch(body["id"])):
        raise errors.InvalidResource(issues=[("id", "is 1–64 letters, digits, '-' or '.'")])
    empty = _first_empty(body, "")
    if empty is not None:
        # FHIR JSON has no nulls and no empty objects or arrays; the models would take a null
        # as "absent" and let a required element through.
        raise errors.InvalidResource(issues=[(empty, "is null or empty (not allowed in FHIR)")])
    issues = [
        (element, f"must be one of {', '.join(allowed)}")
        for element, allowed in REQUIRED_CODES.get(resource_type, {}).items()
        if element in body and body[element] not in allowed
    ]
    if issues:
        raise errors.InvalidResource(issues=issues)
    try:
        model = get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as error:
        raise errors.InvalidResource(
            issues=[
                (".".join(str(part) for part in item["loc"]), item["msg"])
                for item in error.errors()[:20]
            ]
        ) from None
    canonical: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return canonical


def _first_empty(value: Any, path: str) -> str | None:
    """The path of the first null, empty object or empty array in `value`, or None."""
    if value is None or value == {} or value == [] or value == "":
        return path
    children: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        found = _first_empty(child, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None
