"""Batch and transaction Bundles at the base URL: all or nothing, FHIR's processing order,
urn:uuid references rewritten everywhere, conditional entries and references, entry by entry
failures of a batch, `Prefer`, and the size limit."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.records.models import Resource, ResourceVersion

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"
LAB = "http://lab.bv-xanhpon.vn/result"
VISITS = "http://his.bv-xanhpon.vn/visit"


@pytest.fixture
def client() -> Client:
    system = ApiClient.objects.create(name="his-bundles", scopes=["read_records", "write_records"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def observation(value: str = "r-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": LAB, "value": value}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "valueQuantity": {"value": 102.5, "unit": "cm"},
    }
    body.update(changes)
    return body


def encounter(value: str = "v-1") -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": VISITS, "value": value}],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
    }


def post(full_url: str, resource: dict[str, Any], **request: str) -> dict[str, Any]:
    kind = resource["resourceType"]
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": kind, **request},
    }


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def submit(client: Client, body: Any, **headers: str) -> Any:
    return client.post("/fhir/R4/", json.dumps(body), content_type=FHIR, headers=headers)


def test_a_transaction_assigns_ids_first_and_rewrites_every_reference(client):
    visit, height = urn(), urn()
    measured = observation(
        encounter={"reference": visit},
        extension=[
            {
                "url": "http://cityhealth.vn/fhir/measured-during",
                "valueReference": {"reference": visit},
            }
        ],
        contained=[
            {
                "resourceType": "Observation",
                "id": "inner",
                "status": "final",
                "code": {"text": "inner"},
                "focus": [{"reference": visit}],
            }
        ],
        hasMember=[{"reference": "#inner"}],
    )
    # The Observation comes first and names the Encounter after it: ids exist before writes.
    answer = submit(
        client,
        bundle(
            "transaction",
            post(height, measured),
            post(visit, encounter()),
        ),
    )
    assert answer.status_code == 200, answer.content
    response = answer.json()
    assert response["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    obs_id = response["entry"][0]["response"]["location"].split("/")[1]
    enc_id = response["entry"][1]["response"]["location"].split("/")[1]
    assert response["entry"][1]["response"]["etag"] == 'W/"1"'
    stored = Resource.objects.get(resource_type="Observation", logical_id=obs_id).body
    assert stored["encounter"] == {"reference": f"Encounter/{enc_id}"}
    assert stored["extension"][0]["valueReference"] == {"reference": f"Encounter/{enc_id}"}
    assert stored["contained"][0]["focus"] == [{"reference": f"Encounter/{enc_id}"}]
    assert stored["hasMember"] == [{"reference": "#inner"}]
    assert visit not in json.dumps(stored)
    assert ResourceVersion.objects.filter(method="POST").count() == 2


def test_a_transaction_whose_third_entry_is_invalid_saves_nothing(client):
    answer = submit(
        client,
        bundle(
            "transaction",
            post(urn(), observation("a")),
            post(urn(), encounter()),
            post(urn(), observation("c", status="nope")),
            post(urn(), observation("d")),
        ),
    )
    assert answer.status_code == 400
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[2].resource.status"]
    assert "Bundle.entry[2]" in outcome["issue"][0]["diagnostics"]
    assert Resource.objects.count() == 0
    assert ResourceVersion.objects.count() == 0


def test_a_transaction_that_fails_late_rolls_back_what_it_had_written(client):
    kept = submit(client, bundle("transaction", post(urn(), encounter("keep"))))
    enc_id = kept.json()["entry"][0]["response"]["location"].split("/")[1]
    stale = {
        "resource": {**encounter("keep"), "id": enc_id, "status": "cancelled"},
        "request": {"method": "PUT", "url": f"Encounter/{enc_id}", "ifMatch": 'W/"9"'},
    }
    answer = submit(client, bundle("transaction", post(urn(), observation("x")), stale))
    assert answer.status_code == 412
    assert Resource.objects.filter(resource_type="Observation").count() == 0
    assert Resource.objects.get(logical_id=enc_id).body["status"] == "finished"


def test_a_reference_to_no_entry_fails_the_transaction(client):
    dangling = observation(encounter={"reference": urn()})
    answer = submit(client, bundle("transaction", post(urn(), dangling)))
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == (
        "bundle.unresolved_reference"
    )


def test_a_batch_saves_the_good_entries_and_reports_the_bad_one(client):
    answer = submit(
        client,
        bundle(
            "batch",
            post(urn(), observation("a")),
            post(urn(), observation("b", status="nope")),
            {"request": {"method": "GET", "url": "Observation/missing"}},
            post(urn(), observation("c")),
            {"request": {"method": "FETCH", "url": "Observation"}},
        ),
    )
    assert answer.status_code == 200
    response = answer.json()
    assert response["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in response["entry"]]
    assert statuses[0] == statuses[3] == "201 Created"
    assert statuses[1].startswith("400")
    assert statuses[2].startswith("404")
    assert statuses[4].startswith("400")
    refused = response["entry"][1]["response"]["outcome"]
    assert refused["issue"][0]["expression"] == ["Observation.status"]
    assert Resource.objects.filter(resource_type="Observation").count() == 2


def test_entries_run_in_fhir_order_delete_post_put_get(client):
    old = submit(client, bundle("transaction", post(urn(), encounter("old"))))
    old_id = old.json()["entry"][0]["response"]["location"].split("/")[1]
    answer = submit(
        client,
        bundle(
            "transaction",
            {"request": {"method": "GET", "url": "Encounter/fixed-1"}},
            {
                "resource": {**encounter("fixed"), "id": "fixed-1"},
                "request": {"method": "PUT", "url": "Encounter/fixed-1"},
            },
            post(urn(), observation()),
            {"request": {"method": "DELETE", "url": f"Encounter/{old_id}"}},
        ),
    )
    assert answer.status_code == 200, answer.content
    entries = answer.json()["entry"]
    assert entries[0]["resource"]["id"] == "fixed-1"  # the GET saw the PUT before it
    assert entries[1]["response"]["status"] == "201 Created"
    assert entries[3]["response"]["status"] == "204 No Content"
    assert Resource.objects.get(logical_id=old_id).deleted


def test_conditional_entries_and_conditional_references(client):
    first = submit(client, bundle("transaction", post(urn(), encounter("v-42"))))
    enc_id = first.json()["entry"][0]["response"]["location"].split("/")[1]
    query = f"identifier={LAB}|same"
    answer = submit(
        client,
        bundle(
            "transaction",
            post(
                urn(),
                observation("same", encounter={"reference": f"Encounter?identifier={VISITS}|v-42"}),
                ifNoneExist=query,
            ),
        ),
    )
    assert answer.status_code == 200, answer.content
    obs_id = answer.json()["entry"][0]["response"]["location"].split("/")[1]
    stored = Resource.objects.get(logical_id=obs_id).body
    assert stored["encounter"] == {"reference": f"Encounter/{enc_id}"}
    again = submit(
        client, bundle("transaction", post(urn(), observation("same"), ifNoneExist=query))
    )
    assert again.json()["entry"][0]["response"]["status"] == "200 OK"
    assert Resource.objects.filter(resource_type="Observation").count() == 1

    unknown = observation("other", encounter={"reference": f"Encounter?identifier={VISITS}|none"})
    assert submit(client, bundle("transaction", post(urn(), unknown))).status_code == 404


def test_conditional_update_patch_and_delete_entries(client):
    lid = submit(client, bundle("transaction", post(urn(), observation("p-1")))).json()
    lid = lid["entry"][0]["response"]["location"].split("/")[1]
    patch = [{"op": "replace", "path": "/status", "value": "amended"}]
    answer = submit(
        client,
        bundle(
            "transaction",
            {
                "resource": {
                    "resourceType": "Binary",
                    "contentType": "application/json-patch+json",
                    "data": base64.b64encode(json.dumps(patch).encode()).decode(),
                },
                "request": {"method": "PATCH", "url": f"Observation?identifier={LAB}|p-1"},
            },
            {
                "resource": observation("p-2"),
                "request": {"method": "PUT", "url": f"Observation?identifier={LAB}|p-2"},
            },
        ),
    )
    assert answer.status_code == 200, answer.content
    statuses = [e["response"]["status"] for e in answer.json()["entry"]]
    assert statuses == ["200 OK", "201 Created"]
    assert Resource.objects.get(logical_id=lid).body["status"] == "amended"
    assert ResourceVersion.objects.get(logical_id=lid, version_id=2).method == "PATCH"
    gone = submit(
        client,
        bundle(
            "batch", {"request": {"method": "DELETE", "url": f"Observation?identifier={LAB}|p-2"}}
        ),
    )
    assert gone.json()["entry"][0]["response"]["status"] == "204 No Content"
    assert Resource.objects.filter(deleted=True).count() == 1


def test_prefer_decides_what_each_entry_carries(client):
    entries = [post(urn(), observation("r"))]
    minimal = submit(client, bundle("transaction", *entries), Prefer="return=minimal")
    assert "resource" not in minimal.json()["entry"][0]
    full = submit(client, bundle("transaction", *entries), Prefer="return=representation")
    resource = full.json()["entry"][0]["resource"]
    assert resource["meta"]["versionId"] == "1"
    assert full.json()["entry"][0]["response"]["location"].startswith(
        f"Observation/{resource['id']}"
    )
    outcome = submit(client, bundle("transaction", *entries), Prefer="return=OperationOutcome")
    assert outcome.json()["entry"][0]["response"]["outcome"]["resourceType"] == "OperationOutcome"


def test_a_bundle_over_the_entry_limit_is_refused_whole(client, settings):
    settings.FHIR_BUNDLE_MAX_ENTRIES = 3
    answer = submit(client, bundle("batch", *(post(urn(), observation(str(n))) for n in range(4))))
    assert answer.status_code == 413
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "bundle.too_many_entries"
    assert Resource.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Observation"},
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        {"resourceType": "Bundle", "type": "transaction", "entry": {}},
    ],
)
def test_what_is_not_a_batch_or_transaction_is_refused(client, body):
    answer = submit(client, body)
    assert answer.status_code == 400
    assert answer.json()["resourceType"] == "OperationOutcome"


def test_each_entry_needs_its_own_right(client):
    reader = ApiClient.objects.create(name="reader", scopes=["read_records"])
    only_reads = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=reader).raw}")
    answer = submit(only_reads, bundle("transaction", post(urn(), observation())))
    assert answer.status_code == 403
    batch = submit(only_reads, bundle("batch", post(urn(), observation())))
    assert batch.json()["entry"][0]["response"]["status"].startswith("403")
    assert Resource.objects.count() == 0


@pytest.mark.usefixtures("hanoi_registry")
def test_a_patient_entry_is_placed_by_the_registry_and_its_urn_means_that_person():
    import datetime as dt

    from cityhealth.facilities.models import Facility
    from cityhealth.people import services as registry
    from cityhealth.people.models import Person

    lan = registry.register_person(
        actor="desk",
        full_name="Nguyễn Thị Lan",
        birth_date=dt.date(1990, 5, 1),
        sex="female",
        citizen_id="001190004321",
    ).person
    system = ApiClient.objects.create(
        name="his-patients",
        scopes=["read_records", "write_records", "view_persons"],
        facility=Facility.objects.get(code="BV-XANHPON"),
    )
    hospital = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")
    known = {
        "resourceType": "Patient",
        "identifier": [
            {"system": "http://fhir.ehealth.gov.vn/core/sid/national_id", "value": "001190004321"}
        ],
        "name": [{"text": "Nguyễn Thị Lan"}],
        "birthDate": "1990-05-01",
        "gender": "female",
    }
    newcomer = {
        "resourceType": "Patient",
        "name": [{"text": "Trần Văn Mới"}],
        "birthDate": "2001-02-03",
        "gender": "male",
    }
    her, him = urn(), urn()
    persons_before = Person.objects.count()
    answer = submit(
        hospital,
        bundle(
            "transaction",
            post(urn(), observation("p-1", subject={"reference": her})),
            post(her, known),
            post(him, newcomer),
            post(urn(), observation("p-2", subject={"reference": him})),
        ),
    )
    assert answer.status_code == 200, answer.content
    entries = answer.json()["entry"]
    assert entries[1]["response"]["status"] == "200 OK"
    assert entries[1]["response"]["location"].startswith(f"Patient/{lan.pk}/")
    assert entries[2]["response"]["status"] == "201 Created"
    new_id = entries[2]["response"]["location"].split("/")[1]
    assert Person.objects.count() == persons_before + 1
    first = Resource.objects.get(body__identifier__0__value="p-1")
    assert first.body["subject"] == {"reference": f"Patient/{lan.pk}"}
    assert first.person_id == lan.pk
    second = Resource.objects.get(body__identifier__0__value="p-2")
    assert second.body["subject"] == {"reference": f"Patient/{new_id}"}


def test_a_search_entry_answers_a_searchset(client):
    submit(client, bundle("transaction", post(urn(), observation("s-1")), post(urn(), encounter())))
    answer = submit(
        client,
        bundle(
            "batch",
            {"request": {"method": "GET", "url": f"Observation?identifier={LAB}|s-1"}},
            {"request": {"method": "GET", "url": "Observation?bogus=1"}},
        ),
    )
    found, refused = answer.json()["entry"]
    assert found["response"]["status"] == "200 OK"
    assert found["resource"]["type"] == "searchset"
    assert [e["resource"]["identifier"][0]["value"] for e in found["resource"]["entry"]] == ["s-1"]
    assert refused["response"]["status"].startswith("400")


def test_subscribers_hear_of_what_a_transaction_creates(client, django_capture_on_commit_callbacks):
    from cityhealth.fhir import subscriptions
    from cityhealth.fhir.models import Delivery

    subscriptions.forget_active()
    subscription = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "chiều cao",
        "criteria": "Observation?code=http://loinc.org|8302-2",
        "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/hook"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        made = submit(client, bundle("transaction", post(urn(), subscription)))
    assert made.status_code == 200, made.content
    assert Resource.objects.get(resource_type="Subscription").body["status"] == "active"
    other = observation("w", code={"coding": [{"system": "http://loinc.org", "code": "29463-7"}]})
    with django_capture_on_commit_callbacks(execute=True):
        answer = submit(
            client,
            bundle(
                "transaction",
                post(urn(), observation("h-1")),
                post(urn(), other),
                post(urn(), observation("h-2")),
            ),
        )
    assert answer.status_code == 200
    assert Delivery.objects.count() == 2
