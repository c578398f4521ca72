"""Transaction and batch Bundles posted to the base, as `fhirpy.execute` sends them."""

from __future__ import annotations

from typing import Any

import pytest
from fhirpy.base.exceptions import OperationOutcome

from tests.fhir_conformance.resources import observation

VISIT = "urn:uuid:6f0c8d3e-6c1a-4c6b-9d44-2c8f5b1f9a01"


def _encounter(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": patient},
    }


def test_a_transaction_writes_all_and_resolves_its_urn_uuid_references(fhir, patient):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": VISIT,
                "resource": _encounter(patient),
                "request": {"method": "POST", "url": "Encounter"},
            },
            {
                "resource": observation(patient, encounter={"reference": VISIT}),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    answer = fhir.execute("", method="post", data=bundle)
    assert answer["type"] == "transaction-response"
    statuses = [entry["response"]["status"] for entry in answer["entry"]]
    assert all(status.startswith("201") for status in statuses)
    encounter_id = answer["entry"][0]["response"]["location"].split("/")[1]
    made = fhir.resources("Observation").search(subject=patient).fetch_all()
    assert [resource["encounter"]["reference"] for resource in made] == [
        f"Encounter/{encounter_id}"
    ]


def test_a_transaction_with_one_bad_entry_writes_nothing(fhir, patient):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": _encounter(patient), "request": {"method": "POST", "url": "Encounter"}},
            {
                "resource": observation(patient, status="nope"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    with pytest.raises(OperationOutcome):
        fhir.execute("", method="post", data=bundle)
    assert fhir.resources("Encounter").search(subject=patient).fetch_all() == []


def test_a_batch_answers_each_entry_on_its_own(fhir, patient):
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": observation(patient), "request": {"method": "POST", "url": "Observation"}},
            {
                "resource": observation(patient, status="nope"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    answer = fhir.execute("", method="post", data=bundle)
    assert answer["type"] == "batch-response"
    statuses = [entry["response"]["status"][:3] for entry in answer["entry"]]
    assert statuses == ["201", "400"]
    assert len(fhir.resources("Observation").search(subject=patient).fetch_all()) == 1
