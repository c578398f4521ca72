"""The FHIR REST API over HTTP: a hospital system creating, reading, updating, deleting and
reading the history of a resource; every error an OperationOutcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.roles import Role

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"
HEIGHT = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
    "valueQuantity": {"value": 102.5, "unit": "cm"},
}


def his(*scopes: str) -> Client:
    system = ApiClient.objects.create(name=f"his-{'-'.join(scopes)}", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def send(client: Client, method: str, url: str, body: Any = None, **headers: str) -> Any:
    data = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    return getattr(client, method)(f"/fhir/R4{url}", data, content_type=FHIR, headers=headers)


def test_a_resource_lives_through_create_read_update_history_and_delete():
    client = his("read_records", "write_records")
    made = send(client, "post", "/Observation", HEIGHT)
    assert made.status_code == 201
    assert made["Content-Type"].startswith(FHIR)
    assert made["ETag"] == 'W/"1"'
    logical_id = made.json()["id"]
    assert made["Location"].endswith(f"/fhir/R4/Observation/{logical_id}/_history/1")

    read = send(client, "get", f"/Observation/{logical_id}")
    assert read.json()["valueQuantity"]["value"] == 102.5
    assert read.json()["meta"]["versionId"] == "1"

    changed = {**HEIGHT, "id": logical_id, "status": "amended"}
    updated = send(client, "put", f"/Observation/{logical_id}", changed, **{"If-Match": 'W/"1"'})
    assert (updated.status_code, updated["ETag"]) == (200, 'W/"2"')
    stale = send(client, "put", f"/Observation/{logical_id}", changed, **{"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"

    first = send(client, "get", f"/Observation/{logical_id}/_history/1")
    assert first.json()["status"] == "final"
    history = send(client, "get", f"/Observation/{logical_id}/_history").json()
    assert (history["type"], history["total"]) == ("history", 2)

    assert send(client, "delete", f"/Observation/{logical_id}").status_code == 204
    gone = send(client, "get", f"/Observation/{logical_id}")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "issue"),
    [
        ("post", "/Observation", "{not json", 400, "invalid"),
        ("post", "/Observation", {**HEIGHT, "status": "nope"}, 400, "invalid"),
        ("post", "/Observation", {**HEIGHT, "resourceType": "Condition"}, 400, "invalid"),
        ("post", "/Spaceship", HEIGHT, 400, "invalid"),
        ("get", "/Observation/missing", None, 404, "not-found"),
        ("put", "/Observation/x1", HEIGHT, 201, None),  # update as create
    ],
)
def test_bad_requests_get_an_operation_outcome(method, url, body, status, issue):
    answer = send(his("read_records", "write_records"), method, url, body)
    assert answer.status_code == status
    if issue:
        outcome = answer.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == issue
        assert outcome["issue"][0]["diagnostics"]


def test_the_element_at_fault_is_named():
    answer = send(his("write_records"), "post", "/Observation", {**HEIGHT, "status": "nope"})
    assert answer.json()["issue"][0]["expression"] == ["Observation.status"]


def test_each_issue_of_an_invalid_resource_is_told_in_the_callers_language():
    client = his("write_records")
    broken = {**HEIGHT, "status": "nope", "valueQuantity": {"value": "tall"}}
    by_default = send(client, "post", "/Observation", broken).json()["issue"]
    in_english = send(client, "post", "/Observation", broken, **{"Accept-Language": "en"})
    english = in_english.json()["issue"]
    assert [i["expression"] for i in by_default] == [i["expression"] for i in english]
    said = {i["expression"][0]: i["diagnostics"] for i in by_default}
    assert said["Observation.status"] == "«nope» không phải mã thuộc tập giá trị của nó"
    assert said["Observation.valueQuantity.value"] == "phải là một số JSON"
    told = {i["expression"][0]: i["diagnostics"] for i in english}
    assert told["Observation.status"] == "“nope” is not a code of its value set"
    assert told["Observation.valueQuantity.value"] == "must be a JSON number"


def test_an_update_whose_body_is_another_resource_names_its_id_as_a_fhirpath():
    client = his("read_records", "write_records")
    answer = send(client, "put", "/Observation/x1", {**HEIGHT, "id": "x2"})
    assert answer.status_code == 400
    issue = answer.json()["issue"][0]
    assert issue["expression"] == ["Observation.id"]
    assert issue["diagnostics"] == "nội dung gửi lên không phải Observation/x1 của URL"


def test_metadata_is_open_and_says_what_is_implemented():
    statement = Client().get("/fhir/R4/metadata").json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "Observation" in types
    assert {i["code"] for i in types["Observation"]["interaction"]} == {
        "read", "vread", "create", "update", "patch", "delete", "history-instance",
        "history-type", "search-type",
    }  # fmt: skip


def test_access_needs_the_scope_or_the_role(client_as):
    assert Client().get("/fhir/R4/Observation/x").status_code == 401
    assert send(his("read_records"), "post", "/Observation", HEIGHT).status_code == 403
    assert send(his("report_calls"), "get", "/Observation/x").status_code == 403
    clinician = client_as(Role.CLINICIAN)
    made = clinician.post("/fhir/R4/Observation", json.dumps(HEIGHT), content_type=FHIR)
    assert made.status_code == 201
    assert (
        client_as(Role.CASHIER).get(f"/fhir/R4/Observation/{made.json()['id']}").status_code == 403
    )


def test_a_patient_is_the_registry_person_and_cannot_be_written_here(client_as):
    from cityhealth.people.models import Person

    person = Person.objects.create(
        full_name="Nguyễn Thị Lan", sex="female", birth_date="1990-05-01"
    )
    clinician = client_as(Role.CLINICIAN)
    read = clinician.get(f"/fhir/R4/Patient/{person.pk}")
    assert read.status_code == 200
    assert read.json()["resourceType"] == "Patient"
    assert read.json()["id"] == str(person.pk)
    assert clinician.get("/fhir/R4/Patient/999999999").status_code == 404
    written = clinician.delete(f"/fhir/R4/Patient/{person.pk}")
    assert written.status_code == 400
    assert written.json()["issue"][0]["details"]["coding"][0]["code"] == "patient.from_registry"
    # A system with the record scopes but not the registry's sees no person at all.
    assert send(his("read_records"), "get", f"/Patient/{person.pk}").status_code == 404
