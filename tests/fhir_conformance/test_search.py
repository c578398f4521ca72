"""Search and paging, as `fhirpy`'s search sets do them (following `Bundle.link` next)."""

from __future__ import annotations

import pytest

from tests.fhir_conformance.resources import observation


@pytest.fixture
def heights(fhir, patient):
    """Five heights and two weights of one person: the heights' ids."""
    made = []
    for value in (101.0, 102.5, 103.0, 104.5, 105.0):
        resource = fhir.resource("Observation", **observation(patient, value=value))
        resource.save()
        made.append(resource.id)
    for value in (16.5, 17.0):
        fhir.resource("Observation", **observation(patient, code="29463-7", value=value)).save()
    return made


def test_a_token_search_finds_exactly_the_matches(fhir, patient, heights):
    search = fhir.resources("Observation").search(subject=patient)
    found = search.search(code="http://loinc.org|8302-2").fetch_all()
    assert sorted(resource.id for resource in found) == sorted(heights)


def test_a_reference_search_finds_a_persons_resources(fhir, patient, heights):
    found = fhir.resources("Observation").search(subject=patient).fetch_all()
    assert len(found) == 7


def test_pages_of_two_are_followed_to_the_end_with_nothing_lost_or_repeated(fhir, patient, heights):
    search = fhir.resources("Observation").search(subject=patient, code="8302-2").limit(2)
    first = search.fetch_raw()
    assert len(first["entry"]) == 2
    assert any(link["relation"] == "next" for link in first["link"])
    every = [resource.id for resource in search.fetch_all()]
    assert sorted(every) == sorted(heights)


def test_a_quantity_search_with_a_prefix(fhir, patient, heights):
    search = fhir.resources("Observation").search(subject=patient, code="8302-2")
    found = search.search(value_quantity="gt103").fetch_all()
    assert sorted(resource["valueQuantity"]["value"] for resource in found) == [104.5, 105.0]


def test_results_are_sorted_as_asked(fhir, patient, heights):
    search = fhir.resources("Observation").search(subject=patient, code="8302-2")
    found = search.sort("-_lastUpdated").fetch_all()
    assert [resource.id for resource in found] == list(reversed(heights))


def test_the_total_is_counted(fhir, patient, heights):
    search = fhir.resources("Observation").search(subject=patient, code="8302-2")
    bundle = search.search(_total="accurate").fetch_raw()
    assert bundle["total"] == 5
