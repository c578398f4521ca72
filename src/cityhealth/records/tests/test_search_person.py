"""Searches naming one patient read that person's index rows: each index row carries its
resource's person, kept through updates, bulk loads and the migration that added it, and a
search saying `patient=Patient/7` adds "person 7" only where that is implied, so its answers
are those of the same search without it."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.db import connection, transaction

from cityhealth.records import bulk, search, services
from cityhealth.records.models import Resource, SearchDate, SearchReference, SearchToken
from cityhealth.records.search import compartment, run
from cityhealth.records.search.definitions import param, registry
from cityhealth.records.search.extract import parse_reference
from cityhealth.records.tests import hl7_examples
from cityhealth.records.tests.test_search import LOINC, observation, person

INDEX_MODELS = (SearchToken, SearchDate, SearchReference)


def _patient_values(resource_type: str, code: str, body: dict[str, Any]) -> set[str]:
    definition = param(resource_type, code)
    assert definition is not None
    assert definition.extractor is not None
    found = set()
    for value in definition.extractor(body):
        ref = value.get("reference") if isinstance(value, dict) else None
        if isinstance(ref, str) and parse_reference(ref)[0] == "Patient":
            found.add(ref)
    return found


def test_a_person_parameter_names_the_compartments_person_in_every_hl7_example():
    """The rule behind `person_params`, checked on HL7's examples: whatever Patient such a
    parameter finds is the one the compartment resolves to (its first Patient reference)."""
    checked = 0
    for name in hl7_examples.names():
        body = hl7_examples.example(name)
        resource_type = body["resourceType"]
        codes = compartment.person_params(resource_type)
        if not codes:
            continue
        references = compartment._patient_references(resource_type, body.get("id", ""), body)
        for code in codes:
            values = _patient_values(resource_type, code, body)
            if values:
                assert values == {references[0][2]}, (name, code)
                checked += 1
    assert checked > 100


def test_person_parameters_leave_out_elements_that_repeat():
    assert compartment.person_params("Observation") == {"patient", "subject"}
    assert compartment.person_params("Immunization") == {"patient"}
    # Several actors or targets: the person is only the first of them.
    assert compartment.person_params("Appointment") == frozenset()
    assert compartment.person_params("Provenance") == frozenset()
    assert compartment.person_params("Patient") == frozenset()
    for resource_type in registry().compartment:
        for code in compartment.person_params(resource_type):
            definition = param(resource_type, code)
            assert definition is not None
            assert definition.kind == "reference"


@pytest.mark.parametrize(
    ("resource_type", "query", "person_id"),
    [
        ("Observation", "patient=Patient/7&code=x", 7),
        ("Observation", "patient=7", 7),  # `patient` keeps Patient references only
        ("Immunization", "patient=7", None),  # its expression keeps any type: not inferred
        ("Observation", "subject:Patient=7", 7),
        ("Observation", "subject=Patient/7/_history/2", 7),
        ("Observation", "subject=7", None),  # could be Group/7
        ("Observation", "patient=Patient/7,Patient/8", None),
        ("Observation", "patient:missing=false", None),
        ("Observation", "patient=Patient/abc", None),  # no person has that id
        ("Observation", "subject:Group=7", None),
        ("Observation", "performer=Patient/7", None),  # acted, need not be the subject
        ("Observation", "patient.name=An", None),
        ("Appointment", "patient=Patient/7", None),
    ],
)
def test_the_person_a_search_names(resource_type: str, query: str, person_id: int | None):
    params = parse_qsl(query, keep_blank_values=True)
    assert compartment.person_named(resource_type, params) == person_id


def _people_of_index_rows(resource: Resource) -> set[int | None]:
    return {
        person_id
        for model in INDEX_MODELS
        for person_id in model.objects.filter(resource=resource).values_list("person_id", flat=True)
    }


@pytest.mark.django_db
def test_index_rows_carry_the_person_and_follow_it_when_an_update_moves_the_resource():
    lan, minh = person("Lan"), person("Minh")
    made = observation(lan)
    assert _people_of_index_rows(made) == {lan}
    body = {**made.body, "subject": {"reference": f"Patient/{minh}"}}
    services.update_resource(
        resource_type="Observation", logical_id=made.logical_id, body=body, source="BV-TEST"
    )
    assert _people_of_index_rows(made) == {minh}
    query = f"patient=Patient/{{}}&code={LOINC}|8302-2&date=ge2024-01-01"
    assert _ids(query.format(minh)) == {made.logical_id}
    assert _ids(query.format(lan)) == set()
    # Nobody's resource: its rows carry no person.
    orphan = observation()
    assert _people_of_index_rows(orphan) == {None}


@pytest.mark.django_db
def test_bulk_written_rows_carry_the_person():
    lan = person("Lan")
    body = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{lan}"},
        "code": {"coding": [{"system": LOINC, "code": "8302-2"}]},
        "effectiveDateTime": "2024-03-15",
    }
    with transaction.atomic():
        bulk.write_new_resources(
            resources=[bulk.NewResource(body={**body, "id": "bulk-1"}, person_id=lan)],
            source="BV-TEST",
            trusted=True,
        )
    written = Resource.objects.get(resource_type="Observation")
    assert _people_of_index_rows(written) == {lan}


def _ids(query: str, resource_type: str = "Observation") -> set[str]:
    result = search.search(
        resource_type=resource_type, params=parse_qsl(query, keep_blank_values=True)
    )
    return {row.logical_id for row in result.matches}


QUERIES = [
    "patient=Patient/{lan}",
    "patient=Patient/{lan}&code={loinc}|8302-2",
    "patient={lan}&code={loinc}|8302-2&date=ge2024-01-01",
    "subject=Patient/{lan}&code:not={loinc}|8302-2",
    "subject:Patient={lan}&date=lt2024-01-01",
    "patient=Patient/{lan}&value-quantity=gt100",
    "patient=Patient/{lan}&value-quantity:missing=true",
    "patient=Patient/{lan}&category:missing=true",
    "patient=Patient/{lan}&subject=Patient/{minh}",
    "patient=Patient/{lan}&code:text=body",
    "patient=Patient/{lan}&_sort=-date&_count=2",
    "patient=Patient/{minh}&code={loinc}|8302-2",
]


@pytest.mark.django_db
@pytest.mark.parametrize("query", QUERIES)
def test_naming_the_person_changes_no_answer(query: str, monkeypatch: pytest.MonkeyPatch):
    lan, minh = person("Lan"), person("Minh")
    observation(lan)
    observation(lan, effectiveDateTime="2023-05-01")
    observation(lan, code={"coding": [{"system": LOINC, "code": "29463-7"}]})
    without_value = observation(lan, category=[{"text": "vital-signs"}])
    body = {key: value for key, value in without_value.body.items() if key != "valueQuantity"}
    services.update_resource(
        resource_type="Observation", logical_id=without_value.logical_id, body=body, source="x"
    )
    observation(minh)
    observation(minh, performer=[{"reference": f"Patient/{lan}"}])
    observation()
    text = query.format(lan=lan, minh=minh, loinc=LOINC)
    narrowed = _ids(text)
    monkeypatch.setattr(run, "person_named", lambda *_: None)
    assert _ids(text) == narrowed
    assert narrowed or text.endswith(f"Patient/{minh}") or "code:text" in text


@pytest.mark.django_db
def test_the_migration_gives_existing_index_rows_their_resources_person():
    lan = person("Lan")
    made = observation(lan)
    for model in INDEX_MODELS:
        model.objects.update(person_id=None)
    migration = importlib.import_module("cityhealth.records.migrations.0005_search_index_person")
    # It asks the schema editor for its connection only (SQLite's refuses to open in a test's
    # transaction).
    migration.copy_person(None, SimpleNamespace(connection=connection))
    assert _people_of_index_rows(made) == {lan}
