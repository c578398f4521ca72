"""Search over HTTP: `GET /fhir/R4/{type}?…` and `POST …/_search` answer a searchset Bundle
with absolute links that page, includes marked as such, totals, `_summary`/`_elements`,
strict or lenient handling of unknown parameters, and the CapabilityStatement lists it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.roles import Role
from cityhealth.people.services import register_person
from cityhealth.records import services

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"
LOINC = "http://loinc.org"


@pytest.fixture
def clinician(client_as: Any) -> Client:
    client: Client = client_as(Role.CLINICIAN)
    return client


def person_with_patient(name: str) -> int:
    person_id = register_person(actor="user:1", full_name=name, birth_year=1980).person.pk
    services.update_resource(
        resource_type="Patient",
        logical_id=str(person_id),
        body={"resourceType": "Patient", "id": str(person_id), "name": [{"text": name}]},
        source="registry",
    )
    return person_id


def observation(person_id: int, code: str = "8302-2", day: int = 1) -> str:
    made = services.create_resource(
        body={
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{person_id}"},
            "effectiveDateTime": f"2024-03-{day:02d}T08:00:00+07:00",
            "valueQuantity": {"value": 100 + day, "unit": "cm"},
            "note": [{"text": "đo buổi sáng"}],
        },
        source="BV-TEST",
    )
    return made.logical_id


def get(client: Client, url: str, **headers: str) -> Any:
    return client.get(f"/fhir/R4{url}", headers=headers)


def test_a_search_answers_a_searchset_bundle_with_absolute_links_and_entries(clinician):
    an = person_with_patient("Nguyễn Văn An")
    made = observation(an)
    answer = get(clinician, f"/Observation?subject=Patient/{an}&code={LOINC}|8302-2")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith(FHIR)
    bundle = answer.json()
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/fhir/R4/Observation/{made}"
    assert entry["search"] == {"mode": "match"}
    assert entry["resource"]["id"] == made
    self_link = bundle["link"][0]
    assert self_link["relation"] == "self"
    assert self_link["url"].startswith("http://testserver/fhir/R4/Observation?subject=Patient")


def test_post_search_reads_the_form_body(clinician):
    an = person_with_patient("Nguyễn Văn An")
    made = observation(an)
    observation(an, code="29463-7")
    answer = clinician.post(
        "/fhir/R4/Observation/_search",
        "code=8302-2",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    assert [e["resource"]["id"] for e in answer.json()["entry"]] == [made]


def test_next_and_previous_links_walk_the_pages(clinician):
    an = person_with_patient("Nguyễn Văn An")
    made = [observation(an, day=day) for day in range(1, 6)]
    first = get(clinician, "/Observation?_sort=date&_count=2&_total=accurate").json()
    assert first["total"] == 5
    seen = [e["resource"]["id"] for e in first["entry"]]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    page = first
    while "next" in links:
        page = Client.get(clinician, links["next"].removeprefix("http://testserver")).json()
        seen += [e["resource"]["id"] for e in page["entry"]]
        links = {link["relation"]: link["url"] for link in page["link"]}
    assert seen == made
    back = Client.get(clinician, links["previous"].removeprefix("http://testserver")).json()
    assert [e["resource"]["id"] for e in back["entry"]] == made[2:4]


def test_includes_are_marked_and_summary_and_elements_cut_the_resources(clinician):
    an = person_with_patient("Nguyễn Văn An")
    observation(an)
    bundle = get(clinician, "/Observation?_include=Observation:subject").json()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]}
    assert modes == {("Observation", "match"), ("Patient", "include")}
    summary = get(clinician, "/Observation?_summary=true").json()["entry"][0]["resource"]
    assert "note" not in summary
    assert summary["code"]["coding"][0]["code"] == "8302-2"
    assert summary["meta"]["tag"][-1]["code"] == "SUBSETTED"
    elements = get(clinician, "/Observation?_elements=status,value").json()["entry"][0]["resource"]
    assert set(elements) == {"resourceType", "id", "meta", "status", "valueQuantity"}
    counted = get(clinician, "/Observation?_summary=count").json()
    assert (counted["total"], "entry" in counted) == (1, False)


def test_an_unknown_parameter_is_an_operation_outcome_unless_lenient(clinician):
    an = person_with_patient("Nguyễn Văn An")
    observation(an)
    strict = get(clinician, "/Observation?colour=blue")
    assert strict.status_code == 400
    assert strict.json()["resourceType"] == "OperationOutcome"
    lenient = get(clinician, "/Observation?colour=blue", Prefer="handling=lenient").json()
    outcome = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome[0]["resource"]["issue"][0]["severity"] == "warning"
    assert len([e for e in lenient["entry"] if e["search"]["mode"] == "match"]) == 1
    assert "colour" not in lenient["link"][0]["url"]
    bad_date = get(clinician, "/Observation?date=2024-99")
    assert bad_date.status_code == 400


def test_patients_are_searched_by_name_without_diacritics_and_by_has(clinician):
    an = person_with_patient("Nguyễn Văn An")
    person_with_patient("Trần Thị Bình")
    observation(an)
    by_name = get(clinician, "/Patient?name=nguyen").json()
    assert [e["resource"]["id"] for e in by_name["entry"]] == [str(an)]
    has = get(clinician, "/Patient?_has:Observation:patient:code=8302-2").json()
    assert [e["resource"]["id"] for e in has["entry"]] == [str(an)]


def test_search_needs_the_read_right():
    system = ApiClient.objects.create(name="writer", scopes=["write_records"])
    writer = Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")
    assert get(writer, "/Observation?code=x").status_code == 403
    assert Client().get("/fhir/R4/Observation?code=x").status_code == 401


def test_the_capability_statement_lists_search_parameters_and_what_is_not_served():
    statement = Client().get("/fhir/R4/metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    observation_params = {p["name"]: p for p in resources["Observation"]["searchParam"]}
    assert observation_params["code"]["type"] == "token"
    assert "text" in observation_params["code"]["documentation"]
    assert observation_params["date"]["type"] == "date"
    assert {"code": "search-type"} in resources["Observation"]["interaction"]
    assert "code-value-quantity (composite)" in resources["Observation"]["documentation"]
    assert "Observation:subject" in resources["Observation"]["searchInclude"]
    assert json.dumps(statement)  # serialisable as it is
