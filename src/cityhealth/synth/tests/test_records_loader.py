"""`cityhealth synth records`: the directory and the persons' records in the store, resumable."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from cityhealth.facilities.models import Facility
from cityhealth.records import search
from cityhealth.records.models import Resource, ResourceVersion, SearchReference
from cityhealth.synth.records.catalog import load_catalog
from cityhealth.synth.records.directory import PROVIDER_CODE, build_city
from cityhealth.synth.records.generator import RecordsGenerator
from cityhealth.synth.records.loader import (
    DIRECTORY_SOURCE,
    load_records,
    registry_facilities,
    registry_persons,
    source_tag,
)

pytestmark = pytest.mark.django_db
SEED = 5


@pytest.fixture(scope="module")
def population(hanoi_registry, django_db_blocker):
    """A small registry population for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("synth", "population", "--persons", "120", "--seed", "21", "--no-progress",
                     stdout=StringIO())  # fmt: skip
        yield
        transaction.set_rollback(True)


def expected_records(persons: int, years: int = 2) -> list[dict[str, object]]:
    """What the generator makes of the first `persons` persons of the registry (seed SEED)."""
    catalog = load_catalog()
    city = build_city(registry_facilities(), catalog)
    generator = RecordsGenerator(catalog=catalog, city=city, seed=SEED, years=years)
    return [r for page in registry_persons(persons) for p in page for r in generator.person(p)]


def test_the_command_writes_the_directory_and_the_records_and_sums_them_up(population):
    out = StringIO()
    call_command(
        "synth", "records", "--seed", str(SEED), "--persons", "12", "--years", "2",
        "--batch", "300", "--trusted", "--no-progress", stdout=out,
    )  # fmt: skip
    expected = expected_records(12)
    stored = Resource.objects.filter(source=source_tag(SEED))
    assert sorted(stored.values_list("logical_id", flat=True)) == sorted(
        str(r["id"]) for r in expected
    )
    assert ResourceVersion.objects.filter(source=source_tag(SEED)).count() == len(expected)
    # Each resource is in its person's compartment.
    for row in stored.filter(resource_type="Encounter")[:20]:
        assert row.body["subject"]["reference"] == f"Patient/{row.person_id}"
    facilities = Facility.objects.filter(is_active=True).count()
    directory = Resource.objects.filter(source=DIRECTORY_SOURCE)
    assert directory.filter(resource_type="Organization").count() == facilities
    assert directory.filter(resource_type="Location").count() == facilities
    saint_paul = directory.get(resource_type="Organization", logical_id="BV-XANHPON")
    assert {"system": PROVIDER_CODE, "value": "01003"} in saint_paul.body["identifier"]
    text = out.getvalue()
    assert f"{len(expected) + directory.count():,} resources" in text
    for kind, count in Counter(str(r["resourceType"]) for r in expected).items():
        if kind != "Practitioner":  # also in the directory
            assert f"  {kind}: {count:,}" in text


def test_a_second_run_goes_on_where_the_first_stopped(population):
    first = load_records(seed=SEED, persons=5, years=2, batch=200)
    assert (first.persons, first.skipped) == (5, 0)
    # Persons with a record in their two years are skipped; one without any (it happens, by
    # the day the window ends) is looked at again.
    loaded = Resource.objects.filter(source=source_tag(SEED), person_id__isnull=False)
    with_records = loaded.values_list("person_id", flat=True).distinct().count()
    # How many of the five have records depends on the persons' ids (their records are drawn
    # from them), which other tests in the same database move on: only that there is some.
    assert with_records >= 1
    second = load_records(seed=SEED, persons=15, years=2, batch=200)
    assert (second.persons, second.skipped, second.directory) == (
        15 - with_records,
        with_records,
        0,
    )
    stored = sorted(
        Resource.objects.filter(source=source_tag(SEED)).values_list("logical_id", flat=True)
    )
    assert stored == sorted(str(r["id"]) for r in expected_records(15))
    again = load_records(seed=SEED, persons=15, years=2, batch=200)
    # Nothing left to write; a person whose two years hold no record is looked at again.
    holders = loaded.values_list("person_id", flat=True).distinct().count()
    assert again.written == 0
    assert (again.persons, again.skipped) == (15 - holders, holders)


def test_loaded_records_are_indexed_for_search(population):
    load_records(seed=SEED, persons=8, years=2, trusted=False)
    encounter = Resource.objects.filter(source=source_tag(SEED), resource_type="Encounter").first()
    assert encounter is not None
    assert SearchReference.objects.filter(
        resource=encounter, param="service-provider", target_type="Organization"
    ).exists()
    found = search.find_by_criteria(
        resource_type="Encounter",
        query=f"subject=Patient/{encounter.person_id}&_id={encounter.logical_id}",
    )
    assert [r.logical_id for r in found] == [encounter.logical_id]
