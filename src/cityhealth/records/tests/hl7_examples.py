"""HL7's published R4 examples of the types the shared record stores (data/fhir/examples/),
read with the exact JSON codec so that every number keeps the text HL7 wrote."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from cityhealth.core.exactjson import JsonDecimal, loads

FOLDER = Path(settings.DATA_DIR, "fhir", "examples")
# Two of HL7's examples point a reference at a type R4's own definition of the element does
# not allow (HL7's validator says the same): refused, with that element named.
ERRATA = {
    "Observation-clinical-gender.json": (
        "Observation.performer[0].reference",
        "must refer to CareTeam, Organization, Patient, Practitioner, PractitionerRole, "
        "RelatedPerson, not Encounter",
    ),
    "MedicationRequest-medrx0301.json": (
        "MedicationRequest.dispenseRequest.performer.reference",
        "must refer to Organization, not Practitioner",
    ),
}
_PATIENT = re.compile(r"^Patient/([^/]+)(/_history/.+)?$")


def names() -> list[str]:
    return sorted(path.name for path in FOLDER.glob("*.json"))


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = loads((FOLDER / name).read_bytes())
    return body


def patient_ids(node: Any) -> set[str]:
    """The ids of every `Patient/{id}` reference in the resource."""
    found: set[str] = set()
    if isinstance(node, dict):
        reference = node.get("reference")
        matched = _PATIENT.match(reference) if isinstance(reference, str) else None
        if matched:
            found.add(matched[1])
        for value in node.values():
            found |= patient_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= patient_ids(item)
    return found


def with_patients(node: Any, persons: dict[str, int]) -> Any:
    """A copy whose `Patient/{id}` references name the registry's persons instead."""
    if isinstance(node, dict):
        copied = {key: with_patients(value, persons) for key, value in node.items()}
        reference = node.get("reference")
        matched = _PATIENT.match(reference) if isinstance(reference, str) else None
        if matched:
            copied["reference"] = f"Patient/{persons[matched[1]]}{matched[2] or ''}"
        return copied
    if isinstance(node, list):
        return [with_patients(item, persons) for item in node]
    return node


def differences(sent: Any, stored: Any, path: str = "", *, exact: bool = True) -> list[str]:
    """Where `stored` differs from `sent` (object key order aside). Numbers: the same text,
    or with `exact=False` (PostgreSQL's jsonb writes numbers in positional notation) the same
    value and the same decimal places, except that a positive exponent (1.0E+245) can only
    come back as its digits."""
    if isinstance(sent, bool) or isinstance(stored, bool):
        return [] if sent is stored else [f"{path}: {sent!r} → {stored!r}"]
    if isinstance(sent, int | float) and isinstance(stored, int | float):
        return [] if _same_number(sent, stored, exact=exact) else [f"{path}: {sent} → {stored}"]
    if type(sent) is not type(stored):
        return [f"{path}: {type(sent).__name__} → {type(stored).__name__}"]
    if isinstance(sent, dict):
        found = [f"{path}.{key}: missing" for key in sent.keys() - stored.keys()]
        found += [f"{path}.{key}: added" for key in stored.keys() - sent.keys()]
        for key in sent.keys() & stored.keys():
            found += differences(sent[key], stored[key], f"{path}.{key}", exact=exact)
        return found
    if isinstance(sent, list):
        if len(sent) != len(stored):
            return [f"{path}: {len(sent)} items → {len(stored)}"]
        return [
            found
            for index, (one, other) in enumerate(zip(sent, stored, strict=True))
            for found in differences(one, other, f"{path}[{index}]", exact=exact)
        ]
    return [] if sent == stored else [f"{path}: {sent!r} → {stored!r}"]


def _text(number: float) -> str:
    return number.text if isinstance(number, JsonDecimal) else str(number)


def _same_number(sent: float, stored: float, *, exact: bool) -> bool:
    if exact:
        return _text(sent) == _text(stored) and type(sent) is type(stored)
    before, after = Decimal(_text(sent)), Decimal(_text(stored))
    exponent = before.as_tuple().exponent
    assert isinstance(exponent, int)
    return before == after and (exponent > 0 or exponent == after.as_tuple().exponent)
