"""The store's Patients are the registry's persons: projected as each person changes, caught
up in batches after a bulk load, a new version only when the rendering changed, and a
merged-away person kept as an inactive Patient replaced by the survivor."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from cityhealth.people import services as registry
from cityhealth.people.models import Guardianship, Person
from cityhealth.records.models import Resource, ResourceVersion
from cityhealth.records.patients import project_patient, sync_patients
from cityhealth.records.validation import validate_resource

pytestmark = pytest.mark.django_db
NATIONAL_ID = "http://fhir.ehealth.gov.vn/core/sid/national_id"
INSURANCE = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"


def patient_row(person: Person) -> Resource:
    return Resource.objects.get(resource_type="Patient", logical_id=str(person.pk))


def versions(person: Person) -> list[int]:
    return list(
        ResourceVersion.objects.filter(resource_type="Patient", logical_id=str(person.pk))
        .order_by("version_id")
        .values_list("version_id", flat=True)
    )


def registered(name: str = "Trần Thị Minh Anh", **fields: object) -> Person:
    fields.setdefault("birth_date", dt.date(1995, 7, 12))
    fields.setdefault("sex", "female")
    return registry.register_person(actor="desk", full_name=name, **fields).person  # type: ignore[arg-type]


def bulk_loaded(count: int) -> list[Person]:
    """Persons written as a bulk loader writes them: no use case, so no Patient."""
    return [
        Person.objects.create(full_name=f"Người Nạp {i}", birth_year=1950 + i) for i in range(count)
    ]


def test_a_registered_person_is_a_patient_in_the_store_at_once():
    person = registered(citizen_id="001195012345", insurance_code="DN4010112345678")
    row = patient_row(person)
    assert (row.version_id, row.source, row.person_id, row.deleted) == (
        1,
        "registry",
        person.pk,
        False,
    )
    systems = {(i["system"], i["value"]) for i in row.body["identifier"]}
    assert (NATIONAL_ID, "001195012345") in systems
    assert (INSURANCE, "DN4010112345678") in systems
    assert row.body["name"][0]["text"] == "Trần Thị Minh Anh"
    assert row.body["meta"]["versionId"] == "1"
    assert row.body["meta"]["source"] == "registry"
    validate_resource(row.body)  # the registry's rendering is valid R4


def test_a_new_version_only_when_the_rendering_changed():
    person = registered()
    project_patient(person_id=person.pk)
    assert versions(person) == [1]
    registry.record_id_reissue(
        person=person, new_citizen_id="001195012345", reason="first card", actor="desk"
    )
    assert versions(person) == [1, 2]
    assert patient_row(person).body["identifier"][1]["value"] == "001195012345"


def test_a_merged_away_person_stays_an_inactive_patient_replaced_by_the_survivor():
    survivor, retired = registered("Lê Văn Hùng"), registered("Le Van Hung")
    merge = registry.merge_persons(
        survivor=survivor, retired=retired, reason="one man", actor="clerk"
    )
    old = patient_row(retired)
    assert old.body["active"] is False
    assert old.body["link"] == [
        {"other": {"reference": f"Patient/{survivor.pk}"}, "type": "replaced-by"}
    ]
    assert not old.deleted  # references to it keep working
    assert patient_row(survivor).body["link"][0]["type"] == "replaces"

    registry.unmerge(merge=merge, actor="clerk", reason="two men")
    again = patient_row(retired)
    assert again.body["active"] is True
    assert "link" not in again.body
    assert versions(retired) == [1, 2, 3]


def test_a_child_is_reprojected_when_the_guardian_is_merged():
    mother, duplicate = registered("Phạm Thị Thu"), registered("Pham Thi Thu")
    child = registry.register_person(
        actor="desk",
        full_name="Nguyễn Minh Khôi",
        birth_date=dt.date(2020, 1, 1),
        guardian=duplicate,
        guardian_relationship="mother",
    ).person
    registry.merge_persons(survivor=mother, retired=duplicate, reason="one", actor="clerk")
    assert Guardianship.objects.get(child=child).guardian_id == mother.pk
    assert patient_row(child).body["contact"][0]["name"]["text"] == "Phạm Thị Thu"


def test_sync_projects_a_bulk_load_in_batches_and_resumes_without_rewriting():
    loaded = bulk_loaded(5)
    assert not Resource.objects.filter(resource_type="Patient").exists()
    batches = list(sync_patients(batch=2))
    assert [counts.created for _last, counts in batches] == [2, 2, 1]
    assert all(versions(person) == [1] for person in loaded)

    Person.objects.filter(pk=loaded[4].pk).update(full_name="Người Nạp Bốn")  # a bulk fix
    again = list(sync_patients(batch=2, after=loaded[1].pk))
    assert sum(c.unchanged for _l, c in again) == 2
    assert sum(c.updated for _l, c in again) == 1
    assert versions(loaded[4]) == [1, 2]
    assert patient_row(loaded[0]).person_id == loaded[0].pk


def test_the_command_syncs_and_says_what_it_did():
    bulk_loaded(3)
    out = StringIO()
    call_command("records", "sync-patients", "--batch", "2", "--no-progress", stdout=out)
    assert "3 persons (3 created, 0 updated, 0 unchanged)" in out.getvalue()
    call_command("records", "sync-patients", stdout=out)
    assert "(0 created, 0 updated, 3 unchanged)" in out.getvalue()
