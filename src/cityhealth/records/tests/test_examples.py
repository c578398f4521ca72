"""HL7's published R4 examples of our types: each is valid R4 here, and what the store keeps
of it is exactly what was sent (apart from the meta.versionId, meta.lastUpdated and
meta.source the store sets), decimals with their precision, dates with their offsets."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.exactjson import JsonDecimal, loads
from cityhealth.people.models import Person
from cityhealth.records import errors, selectors, services
from cityhealth.records.tests import hl7_examples
from cityhealth.records.types import SUPPORTED_TYPES
from cityhealth.records.validation import validate_resource

NAMES = hl7_examples.names()
VALID = [name for name in NAMES if name not in hl7_examples.ERRATA]
# Patients are the person registry's (written through its matcher, not the store).
STORED = [name for name in VALID if not name.startswith("Patient-")]
STORE_SETS = ("versionId", "lastUpdated", "source")
# A Subscription asks (`requested`); the server answers by setting its status (R4 12.3.3).
SERVER_SETS = {"Subscription-example.json": [".status: 'requested' → 'active'"]}


def test_every_type_we_store_has_examples_and_every_example_is_of_a_type_we_store():
    types = {name.split("-", 1)[0] for name in NAMES}
    assert types == set(SUPPORTED_TYPES)
    assert len(NAMES) >= 280


@pytest.mark.parametrize("name", VALID)
def test_each_example_is_valid_r4_and_comes_back_as_it_was_sent(name):
    sent = hl7_examples.example(name)
    assert validate_resource(sent) is sent
    assert hl7_examples.differences(hl7_examples.example(name), sent) == []


@pytest.mark.parametrize("name", sorted(hl7_examples.ERRATA))
def test_the_examples_that_point_at_a_type_r4_forbids_are_refused_at_that_element(name):
    with pytest.raises(errors.InvalidResource) as refused:
        validate_resource(hl7_examples.example(name))
    assert refused.value.issues == [hl7_examples.ERRATA[name]]


def _without_store_meta(body: dict[str, Any]) -> dict[str, Any]:
    meta = {key: value for key, value in body.get("meta", {}).items() if key not in STORE_SETS}
    return {key: value for key, value in body.items() if key != "meta"} | (
        {"meta": meta} if meta else {}
    )


@pytest.mark.django_db
def test_the_store_keeps_every_example_exactly_as_it_was_sent():
    exact = connection.vendor == "sqlite"  # jsonb writes 1E-22 as 0.0000000000000000000001
    persons: dict[str, int] = {}
    changed = {}
    for name in STORED:
        example = hl7_examples.example(name)
        for patient in hl7_examples.patient_ids(example) - persons.keys():
            persons[patient] = Person.objects.create(full_name=f"HL7 {patient}").pk
        sent = hl7_examples.with_patients(example, persons)
        services.update_resource(
            resource_type=sent["resourceType"], logical_id=sent["id"], body=sent, source="hl7"
        )
        stored = selectors.read_resource(
            resource_type=sent["resourceType"], logical_id=sent["id"]
        ).body
        assert stored["meta"]["source"] == "hl7"
        found = hl7_examples.differences(
            _without_store_meta(sent), _without_store_meta(stored), exact=exact
        )
        if found != SERVER_SETS.get(name, []):
            changed[name] = found
    assert changed == {}


OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
    "effectiveDateTime": "2026-03-01T08:00:00+00:00",
    "valueQuantity": {"value": JsonDecimal("5.50"), "unit": "mmol/L"},
    "component": [
        {"code": {"text": "a"}, "valueQuantity": {"value": JsonDecimal("1.0E-22")}},
        {"code": {"text": "b"}, "valueQuantity": {"value": JsonDecimal("100.000")}},
    ],
}


@pytest.mark.django_db
def test_decimals_and_offsets_come_back_over_http_as_they_were_written():
    system = ApiClient.objects.create(name="lab", scopes=["read_records", "write_records"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")
    raw = (
        b'{"resourceType":"Observation","status":"final","code":{"coding":[{"system":'
        b'"http://loinc.org","code":"2339-0"}]},"effectiveDateTime":"2026-03-01T08:00:00+00:00",'
        b'"valueQuantity":{"value":5.50,"unit":"mmol/L"},"component":[{"code":{"text":"a"},'
        b'"valueQuantity":{"value":1.0E-22}},{"code":{"text":"b"},"valueQuantity":'
        b'{"value":100.000}}]}'
    )
    made = client.post("/fhir/R4/Observation", raw, content_type="application/fhir+json")
    assert made.status_code == 201, made.content
    read = client.get(f"/fhir/R4/Observation/{made.json()['id']}")
    # The stored text goes out as it is (PostgreSQL's jsonb puts a space after each colon).
    text = read.content.replace(b'": ', b'":')
    assert b'"value":5.50' in text
    assert b'"effectiveDateTime":"2026-03-01T08:00:00+00:00"' in text
    body = loads(read.content)
    if connection.vendor == "sqlite":
        assert b'"value":1.0E-22' in text
        assert b'"value":100.000' in text
    del body["id"]
    assert hl7_examples.differences(OBSERVATION, _without_store_meta(body), exact=False) == []
