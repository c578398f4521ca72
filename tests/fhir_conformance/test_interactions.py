"""Create, read, vread, update with an ETag, JSON Patch, delete and history, as `fhirpy`
does them."""

from __future__ import annotations

import pytest
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome, ResourceNotFound

from tests.fhir_conformance.resources import observation


def test_the_capability_statement_says_r4(fhir):
    statement = fhir.execute("metadata", method="get")
    assert (statement["resourceType"], statement["fhirVersion"]) == ("CapabilityStatement", "4.0.1")


def test_a_created_resource_is_read_and_read_by_version(fhir, patient):
    made = fhir.resource("Observation", **observation(patient))
    made.save()
    assert made.id
    assert made["meta"]["versionId"] == "1"
    read = fhir.reference("Observation", made.id).to_resource()
    assert read["valueQuantity"]["value"] == 102.5
    assert read["subject"]["reference"] == patient
    first = fhir.execute(f"Observation/{made.id}/_history/1", method="get")
    assert (first["id"], first["meta"]["versionId"]) == (made.id, "1")


def test_an_update_with_the_current_etag_is_taken_and_a_stale_etag_is_refused(connect, patient):
    made = connect().resource("Observation", **observation(patient))
    made.save()
    made["status"] = "amended"
    holding_version_1 = connect(**{"If-Match": 'W/"1"'})
    updated = holding_version_1.resource("Observation", **made)
    updated.save()
    assert (updated["meta"]["versionId"], updated["status"]) == ("2", "amended")
    with pytest.raises(MultipleResourcesFound):  # fhirpy's name for any 412
        holding_version_1.resource("Observation", **made).save()
    assert connect().reference("Observation", made.id).to_resource()["meta"]["versionId"] == "2"


def test_an_update_to_a_new_id_creates_it(fhir, patient):
    made = fhir.resource("Observation", id="height-a1", **observation(patient))
    made.save()
    assert (made.id, made["meta"]["versionId"]) == ("height-a1", "1")


def test_a_deleted_resource_is_gone_and_its_history_keeps_every_version(fhir, patient):
    made = fhir.resource("Observation", **observation(patient))
    made.save()
    made["status"] = "amended"
    made.save()
    made.delete()
    with pytest.raises(ResourceNotFound):  # 410 Gone
        fhir.reference("Observation", made.id).to_resource()
    history = fhir.execute(f"Observation/{made.id}/_history", method="get")
    assert (history["resourceType"], history["type"]) == ("Bundle", "history")
    methods = [entry["request"]["method"] for entry in history["entry"]]
    assert methods == ["DELETE", "PUT", "POST"]
    assert history["entry"][1]["resource"]["status"] == "amended"


def test_an_invalid_resource_gets_an_operation_outcome_naming_the_element(fhir, patient):
    broken = fhir.resource("Observation", **observation(patient, status="nope"))
    with pytest.raises(OperationOutcome) as refused:
        broken.save()
    issue = refused.value.resource["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", "invalid")
    assert issue["expression"] == ["Observation.status"]


def test_a_missing_resource_is_not_found(fhir):
    with pytest.raises(ResourceNotFound):
        fhir.reference("Observation", "never-made").to_resource()


def test_a_json_patch_changes_one_element_and_makes_a_version(connect, patient):
    made = connect().resource("Observation", **observation(patient))
    made.save()
    patching = connect(**{"Content-Type": "application/json-patch+json"})
    operations = [{"op": "replace", "path": "/valueQuantity/value", "value": 103.5}]
    # (fhirpy sends `data` as JSON whatever it is; a JSON Patch is an array)
    patched = patching.execute(f"Observation/{made.id}", method="patch", data=operations)
    assert (patched["meta"]["versionId"], patched["valueQuantity"]["value"]) == ("2", 103.5)
    assert patched["status"] == "final"
