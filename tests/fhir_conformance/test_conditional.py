"""Conditional create (If-None-Exist), update and delete, as `fhirpy` sends them."""

from __future__ import annotations

from typing import Any

from tests.fhir_conformance.resources import observation

LAB = "http://lab.bv-xanhpon.vn/result"


def _result(patient: str, number: str, **more: Any) -> dict[str, Any]:
    return observation(patient, identifier=[{"system": LAB, "value": number}], **more)


def _number(patient: str, suffix: str) -> str:
    """A result number no other test uses: the person's id and a suffix."""
    return f"{patient.split('/')[1]}-{suffix}"


def test_a_conditional_create_does_not_duplicate(connect, patient):
    number = _number(patient, "R1")
    once = connect(**{"If-None-Exist": f"identifier={LAB}|{number}"})
    first = once.resource("Observation", **_result(patient, number))
    first.save()
    again = once.resource("Observation", **_result(patient, number))
    again.save()
    assert again.id == first.id
    found = connect().resources("Observation").search(identifier=f"{LAB}|{number}").fetch_all()
    assert [resource.id for resource in found] == [first.id]


def test_a_conditional_update_creates_then_updates_the_match(fhir, patient):
    number = _number(patient, "R2")
    search = fhir.resources("Observation").search(identifier=f"{LAB}|{number}")
    made, created = search.update(fhir.resource("Observation", **_result(patient, number)))
    assert created
    changed, created = search.update(
        fhir.resource("Observation", **_result(patient, number, status="amended"))
    )
    assert (created, changed.id, changed["meta"]["versionId"]) == (False, made.id, "2")


def test_a_conditional_delete_removes_the_match(fhir, patient):
    number = _number(patient, "R3")
    fhir.resource("Observation", **_result(patient, number)).save()
    fhir.resources("Observation").search(identifier=f"{LAB}|{number}").delete()
    assert fhir.resources("Observation").search(identifier=f"{LAB}|{number}").fetch_all() == []
