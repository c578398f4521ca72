"""Whose record a resource is part of (the Patient compartment, resolved once at write time):
the person a `Patient/{id}` reference among the type's compartment parameters names, the
`subject`/`patient` one first. Patients are the person registry's persons, so a compartment
reference that names no person is refused rather than stored pointing nowhere."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from cityhealth.people.models import Person
from cityhealth.records import errors
from cityhealth.records.search.definitions import compartment_params, param, params_for
from cityhealth.records.search.extract import parse_reference
from cityhealth.records.validation import element_repeats

_TO_PATIENT = ".where(resolve() is Patient)"


def person_for(resource_type: str, logical_id: str, body: dict[str, Any]) -> int | None:
    """The person whose compartment the resource belongs to (None: nobody's).
    InvalidResource, with the element, if a compartment reference names no person."""
    return people_for([(resource_type, logical_id, body)])[0]


def people_for(items: Sequence[tuple[str, str, dict[str, Any]]]) -> list[int | None]:
    """`person_for` of many resources, with one query to the registry."""
    wanted: list[list[tuple[int | None, str, str]]] = [
        _patient_references(resource_type, logical_id, body)
        for resource_type, logical_id, body in items
    ]
    ids = {person for refs in wanted for person, _, _ in refs if person is not None}
    known = set(Person.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    found: list[int | None] = []
    for refs in wanted:
        for person, path, text in refs:
            if person is None or person not in known:
                raise errors.InvalidResource(
                    issues=[
                        (
                            path,
                            errors.Said(
                                f"{text} names no person of the registry",
                                f"{text} không phải người nào trong sổ đăng ký nhân khẩu",
                            ),
                        )
                    ]
                )
        found.append(refs[0][0] if refs else None)
    return found


def _patient_references(
    resource_type: str, logical_id: str, body: dict[str, Any]
) -> list[tuple[int | None, str, str]]:
    """(person id or None if it cannot be one, element path, reference) of every Patient
    reference among the compartment parameters, in the compartment's order."""
    if resource_type == "Patient":
        return [(_person_id(logical_id), "Patient.id", f"Patient/{logical_id}")]
    found: list[tuple[int | None, str, str]] = []
    for code in compartment_params(resource_type):
        definition = param(resource_type, code)
        if definition is None or definition.extractor is None:
            continue
        for value in definition.extractor(body):
            ref = value.get("reference") if isinstance(value, dict) else None
            if not isinstance(ref, str):
                continue
            target_type, target_id = parse_reference(ref)
            if target_type == "Patient" and all(ref != seen for _, _, seen in found):
                found.append((_person_id(target_id), definition.path.split(".where")[0], ref))
    return found


def _person_id(logical_id: str) -> int | None:
    return int(logical_id) if logical_id.isdigit() and len(logical_id) < 19 else None


@functools.cache
def person_params(resource_type: str) -> frozenset[str]:
    """The reference parameters of a type whose `Patient/{id}` value is the resource's person:
    those reading the single element the compartment's first parameter reads. A resource
    matching `patient=Patient/7` then has the person 7 (`person_for` takes that element's
    Patient reference before any other), so a search may add "person 7" and read the index
    rows that carry the person. Not for elements that repeat (Appointment's actors, a
    Provenance's targets): there the person is only the first of them."""
    first = compartment_params(resource_type)[:1]
    definition = param(resource_type, first[0]) if first else None
    if definition is None:
        return frozenset()
    element = definition.path.removesuffix(_TO_PATIENT)
    type_name, _, name = element.partition(".")
    if type_name != resource_type or not name.isidentifier() or element_repeats(type_name, name):
        return frozenset()
    return frozenset(
        code
        for code, candidate in params_for(resource_type).items()
        if candidate.kind == "reference" and candidate.path.removesuffix(_TO_PATIENT) == element
    )


def person_named(resource_type: str, params: Sequence[tuple[str, str]]) -> int | None:
    """The person a search names through one of the type's `person_params` (`patient=
    Patient/7`, `patient=7`, `subject:Patient=7`): only that person's resources can match it.
    None when it names none, or more than one value."""
    codes = person_params(resource_type)
    for name, raw in params:
        code, _, modifier = name.partition(":")
        if code not in codes or modifier not in ("", "Patient") or "," in raw:
            continue
        target_type, target_id = parse_reference(raw)
        if not target_type and "/" not in raw and ":" not in raw:
            # A bare id is a Patient's only where the parameter keeps Patients alone.
            definition = param(resource_type, code)
            only_patients = definition is not None and definition.path.endswith(_TO_PATIENT)
            target_type, target_id = ("Patient" if modifier or only_patients else ""), raw
        if target_type == "Patient" and (person := _person_id(target_id)) is not None:
            return person
    return None
