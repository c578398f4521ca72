"""The store's bulk path: many new resources in one call, rows, versions, index and all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from cityhealth.people.models import Person
from cityhealth.records import bulk, errors, search
from cityhealth.records.models import Resource, ResourceVersion, SearchToken

pytestmark = pytest.mark.django_db
LOINC = "http://loinc.org"
AT = dt.datetime(2026, 7, 1, 2, 0, tzinfo=dt.UTC)


def _observation(logical_id: str, person_id: int, code: str = "8867-4") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": logical_id,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code, "display": "Heart rate"}]},
        "subject": {"reference": f"Patient/{person_id}"},
        "effectiveDateTime": "2026-03-02T08:15:00+07:00",
        "valueQuantity": {
            "value": 72.50,
            "unit": "/min",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }


def test_new_resources_get_their_row_first_version_meta_and_compartment():
    lan = Person.objects.create(full_name="Lan")
    result = bulk.write_new_resources(
        resources=[
            bulk.NewResource(body=_observation(f"hr-{n}", lan.pk), person_id=lan.pk)
            for n in range(5)
        ]
        + [bulk.NewResource(body={"resourceType": "Organization", "id": "BV-1", "name": "BV"})],
        source="loader:test",
        at=AT,
    )
    assert result.written == 6
    assert result.by_type == {"Observation": 5, "Organization": 1}
    row = Resource.objects.get(resource_type="Observation", logical_id="hr-3")
    assert (row.version_id, row.person_id, row.source, row.deleted) == (
        1,
        lan.pk,
        "loader:test",
        False,
    )
    assert row.last_updated == AT
    assert row.body["meta"] == {
        "versionId": "1",
        "lastUpdated": "2026-07-01T02:00:00Z",
        "source": "loader:test",
    }
    assert row.body["valueQuantity"]["value"] == 72.5
    version = ResourceVersion.objects.get(resource=row)
    assert (version.version_id, version.method, version.body) == (1, "POST", row.body)
    organization = Resource.objects.get(resource_type="Organization", logical_id="BV-1")
    assert organization.person_id is None


def test_the_written_resources_are_found_by_search():
    lan = Person.objects.create(full_name="Lan")
    bulk.write_new_resources(
        resources=[
            bulk.NewResource(body=_observation("hr-1", lan.pk), person_id=lan.pk),
            bulk.NewResource(body=_observation("wt-1", lan.pk, code="29463-7"), person_id=lan.pk),
        ],
        source="loader:test",
        trusted=True,
    )
    row = Resource.objects.get(logical_id="wt-1")
    assert SearchToken.objects.filter(resource=row, param="code", code="29463-7").exists()
    found = search.find_by_criteria(
        resource_type="Observation", query=f"code={LOINC}|29463-7&subject=Patient/{lan.pk}"
    )
    assert [r.logical_id for r in found] == ["wt-1"]


def test_bulk_written_dates_and_quantities_are_found_by_their_ranges():
    # The index rows go in as plain tuples (COPY, or executemany on SQLite): the dates must
    # be stored as the ORM stores them, or range comparisons would miss them.
    lan = Person.objects.create(full_name="Lan")
    bulk.write_new_resources(
        resources=[bulk.NewResource(body=_observation("hr-9", lan.pk), person_id=lan.pk)],
        source="loader:test",
        trusted=True,
    )

    def ids(query: str) -> list[str]:
        found = search.find_by_criteria(resource_type="Observation", query=query, limit=5)
        return [r.logical_id for r in found]

    assert ids("date=2026-03-02") == ["hr-9"]
    assert ids("date=gt2026-03-02T01:15:00Z") == []  # 08:15+07:00 is 01:15 UTC
    assert ids("value-quantity=72.5") == ["hr-9"]
    assert ids("value-quantity=gt72.5") == []


def test_an_invalid_resource_refuses_the_whole_batch():
    lan = Person.objects.create(full_name="Lan")
    broken = {**_observation("hr-2", lan.pk), "status": "nope"}
    with pytest.raises(errors.InvalidResource), transaction.atomic():
        bulk.write_new_resources(
            resources=[
                bulk.NewResource(body=_observation("hr-1", lan.pk), person_id=lan.pk),
                bulk.NewResource(body=broken, person_id=lan.pk),
            ],
            source="loader:test",
        )
    assert not Resource.objects.filter(resource_type="Observation").exists()


def test_a_resource_without_an_id_is_refused_even_when_trusted():
    body = _observation("x", 1)
    del body["id"]
    with pytest.raises(errors.InvalidResource):
        bulk.write_new_resources(
            resources=[bulk.NewResource(body=body)], source="loader:test", trusted=True
        )


def test_an_id_already_taken_fails_the_batch():
    lan = Person.objects.create(full_name="Lan")
    first = [bulk.NewResource(body=_observation("hr-1", lan.pk), person_id=lan.pk)]
    bulk.write_new_resources(resources=first, source="loader:test")
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.write_new_resources(resources=first, source="loader:test")
    assert Resource.objects.filter(logical_id="hr-1").count() == 1


def test_existing_ids_and_persons_with_resources_tell_a_loader_where_to_resume():
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    bulk.write_new_resources(
        resources=[bulk.NewResource(body=_observation("hr-1", lan.pk), person_id=lan.pk)],
        source="loader:a",
    )
    assert bulk.existing_ids(resource_type="Observation", logical_ids=["hr-1", "hr-2"]) == {"hr-1"}
    assert bulk.persons_with_resources(person_ids=[lan.pk, minh.pk], source="loader:a") == {lan.pk}
    assert bulk.persons_with_resources(person_ids=[lan.pk], source="loader:b") == set()


def test_an_empty_batch_writes_nothing():
    assert bulk.write_new_resources(resources=[], source="loader:test").written == 0
