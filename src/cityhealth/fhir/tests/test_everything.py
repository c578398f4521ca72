"""`Patient/{id}/$everything` over HTTP: the Patient, their compartment and what it points
to, under the caller's consent, with `_type`, `_since`, `_count` paging and merges."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest

from cityhealth.core import clock
from cityhealth.fhir.tests.operation_factories import (
    get_json,
    his,
    observation,
    organization,
    person,
    store,
)
from cityhealth.people.services import merge_persons
from cityhealth.records.models import Resource
from cityhealth.records.patients import project_patient

pytestmark = pytest.mark.django_db


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]


def test_everything_answers_the_patient_their_compartment_and_what_it_points_to():
    anh, binh = person("Trần Thị Anh"), person("Lê Văn Bình")
    lab, elsewhere = organization("Khoa Xét nghiệm"), organization("Không ai nhắc tới")
    doctor = {
        "resourceType": "Practitioner",
        "id": "dr-ops",
        "name": [{"family": "Phạm"}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "role-ops",
        "practitioner": {"reference": "Practitioner/dr-ops"},
        "organization": {"reference": f"Organization/{lab['id']}"},
    }
    hers = observation(anh.pk, performer=[{"reference": "PractitionerRole/role-ops"}])
    his_obs = observation(binh.pk)
    store((lab, None), (elsewhere, None), (doctor, None), (role, None))
    store((hers, anh.pk), (his_obs, binh.pk))

    status, bundle = get_json(his(), f"/fhir/R4/Patient/{anh.pk}/$everything")

    assert status == 200
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    ids = _ids(bundle)
    assert ids[0] == f"Patient/{anh.pk}"
    assert f"Observation/{hers['id']}" in ids
    assert f"Observation/{his_obs['id']}" not in ids  # another person's record
    # Followed from the Observation: the role, and through it the practitioner and the lab.
    assert {"PractitionerRole/role-ops", "Practitioner/dr-ops", f"Organization/{lab['id']}"} <= set(
        ids
    )
    assert f"Organization/{elsewhere['id']}" not in ids
    modes = {i: e["search"]["mode"] for i, e in zip(ids, bundle["entry"], strict=True)}
    assert modes[f"Observation/{hers['id']}"] == "match"
    assert modes["Practitioner/dr-ops"] == "include"
    assert bundle["total"] == 2  # the Patient and the one Observation
    assert bundle["entry"][1]["fullUrl"].endswith(f"/fhir/R4/Observation/{hers['id']}")


def test_type_and_since_narrow_what_comes_back():
    anh = person()
    old = observation(anh.pk, code="8302-2")
    condition = {
        "resourceType": "Condition",
        "id": "cond-ops",
        "subject": {"reference": f"Patient/{anh.pk}"},
        "code": {"text": "Tăng huyết áp"},
    }
    past = clock.now() - dt.timedelta(days=30)
    store((old, anh.pk), at=past)
    store((condition, anh.pk))
    client = his()

    _, only_conditions = get_json(client, f"/fhir/R4/Patient/{anh.pk}/$everything?_type=Condition")
    assert _ids(only_conditions) == ["Condition/cond-ops"]

    since = (past + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
    _, recent = get_json(client, f"/fhir/R4/Patient/{anh.pk}/$everything?_since={since}")
    assert f"Observation/{old['id']}" not in _ids(recent)
    assert "Condition/cond-ops" in _ids(recent)

    status, refused = get_json(client, f"/fhir/R4/Patient/{anh.pk}/$everything?_type=Nope")
    assert status == 400
    assert refused["resourceType"] == "OperationOutcome"


def test_count_pages_by_cursor_and_every_resource_comes_once():
    anh = person()
    made = [observation(anh.pk) for _ in range(7)]
    store(*((body, anh.pk) for body in made))
    client = his()

    seen: list[str] = []
    url: str | None = f"/fhir/R4/Patient/{anh.pk}/$everything?_count=3"
    pages = 0
    while url:
        status, bundle = get_json(client, url)
        assert status == 200
        assert bundle["total"] == 8
        seen.extend(_ids(bundle))
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = urlsplit(following[0])._replace(scheme="", netloc="").geturl() if following else None
        pages += 1
    assert pages == 3
    assert seen[0] == f"Patient/{anh.pk}"
    assert sorted(seen[1:]) == sorted(f"Observation/{b['id']}" for b in made)


def test_a_merged_person_answers_with_the_survivor_and_both_records():
    survivor, retired = person("Đỗ Minh Châu"), person("Do Minh Chau")
    kept, moved = observation(survivor.pk), observation(retired.pk)
    store((kept, survivor.pk), (moved, retired.pk))
    retired.merged_into = survivor
    retired.save(update_fields=["merged_into"])

    status, bundle = get_json(his(), f"/fhir/R4/Patient/{retired.pk}/$everything")

    assert status == 200
    ids = _ids(bundle)
    assert ids[0] == f"Patient/{survivor.pk}"
    assert {f"Observation/{kept['id']}", f"Observation/{moved['id']}"} <= set(ids)


def test_a_consent_that_denies_the_caller_hides_the_compartment():
    anh = person()
    store((observation(anh.pk), anh.pk))
    denial = {
        "resourceType": "Consent",
        "id": "deny-ops",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{anh.pk}"},
        "provision": {"type": "deny"},
    }
    store((denial, anh.pk))

    status, bundle = get_json(his(), f"/fhir/R4/Patient/{anh.pk}/$everything?_type=Observation")

    assert status == 200
    assert bundle["total"] == 0
    assert bundle["entry"] == []


def test_an_unknown_patient_and_a_caller_without_the_scope_are_refused():
    anh = person()
    status, outcome = get_json(his(), "/fhir/R4/Patient/999999999/$everything")
    assert status == 404
    assert outcome["resourceType"] == "OperationOutcome"
    status, _ = get_json(his("write_records"), f"/fhir/R4/Patient/{anh.pk}/$everything")
    assert status == 403


def test_the_patient_is_the_store_s_projection_once_there_is_one():
    anh = person("Vũ Thị Hoa")
    store((observation(anh.pk), anh.pk))
    project_patient(person_id=anh.pk)

    status, bundle = get_json(his(), f"/fhir/R4/Patient/{anh.pk}/$everything")

    assert status == 200
    patients = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["resource"]["id"] for p in patients] == [str(anh.pk)]
    assert bundle["entry"][0] is patients[0]
    assert patients[0]["resource"]["meta"]["source"] == "registry"
    assert bundle["total"] == 2


def test_the_projected_patient_leads_the_first_page_and_comes_once():
    anh = person("Vũ Văn Nam")
    made = [observation(anh.pk) for _ in range(3)]
    store(*((body, anh.pk) for body in made))
    project_patient(person_id=anh.pk)  # its row comes after the Observations in id order
    client = his()

    _, first = get_json(client, f"/fhir/R4/Patient/{anh.pk}/$everything?_count=2")
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    _, second = get_json(client, urlsplit(following)._replace(scheme="", netloc="").geturl())

    assert _ids(first)[0] == f"Patient/{anh.pk}"
    assert len(_ids(first)) == 3
    assert (first["total"], second["total"]) == (4, 4)
    everything_once = _ids(first) + _ids(second)
    assert sorted(everything_once) == sorted(
        [f"Patient/{anh.pk}", *(f"Observation/{b['id']}" for b in made)]
    )


@pytest.mark.parametrize("count", [2, 50])
def test_a_survivor_s_everything_has_its_patient_once_and_the_merged_records(count):
    survivor, retired = person("Đỗ Minh Châu"), person("Do Minh Chau")
    kept = [observation(survivor.pk) for _ in range(2)]
    moved = [observation(retired.pk) for _ in range(2)]
    store(*((body, survivor.pk) for body in kept), *((body, retired.pk) for body in moved))
    merge_persons(survivor=survivor, retired=retired, reason="cùng một người", actor="desk")
    # The merge projected both persons' Patients (the retired one `replaced-by` the survivor).
    assert Resource.objects.filter(resource_type="Patient", person_id=survivor.pk).exists()
    client = his()

    seen: list[str] = []
    url: str | None = f"/fhir/R4/Patient/{survivor.pk}/$everything?_count={count}"
    while url:
        status, bundle = get_json(client, url)
        assert status == 200
        seen.extend(_ids(bundle))
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        url = urlsplit(following[0])._replace(scheme="", netloc="").geturl() if following else None

    assert seen[0] == f"Patient/{survivor.pk}"
    assert seen.count(f"Patient/{survivor.pk}") == 1
    assert len(seen) == len(set(seen)) == bundle["total"]
    assert {f"Observation/{b['id']}" for b in kept + moved} <= set(seen)
    # The retired record's Patient links to the survivor (`replaced-by`): in its compartment.
    assert f"Patient/{retired.pk}" in seen
