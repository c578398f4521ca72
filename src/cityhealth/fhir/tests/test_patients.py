"""A hospital system sending Patients: matched by the person registry (linked, registered,
or registered provisionally for review), never duplicated; and `Patient/$match` (PDQm)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from cityhealth.accounts.models import ApiClient
from cityhealth.accounts.services import issue_api_token
from cityhealth.core.models import AuditEntry
from cityhealth.facilities.models import Facility
from cityhealth.people import services as registry
from cityhealth.people.enums import IdentifierKind, ReviewKind, ReviewStatus
from cityhealth.people.models import Person, PersonIdentifier, ReviewItem
from cityhealth.records.models import Resource

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hanoi_registry")]
FHIR = "application/fhir+json"
HOSPITAL = "BV-XANHPON"
VN = "http://fhir.ehealth.gov.vn/core/sid"
MR_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}
GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"
CCCD = {"system": f"{VN}/national_id", "value": "001190004321"}


def his(*scopes: str, facility: str | None = HOSPITAL) -> Client:
    system = ApiClient.objects.create(
        name=f"his-{len(scopes)}-{ApiClient.objects.count()}",
        scopes=list(scopes),
        facility=Facility.objects.get(code=facility) if facility else None,
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_api_token(client=system).raw}")


def hospital() -> Client:
    return his("read_records", "write_records", "view_persons")


def send(client: Client, method: str, url: str, body: Any = None, **headers: str) -> Any:
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(f"/fhir/R4{url}", data, content_type=FHIR, headers=headers)


def patient(name: str, birth: str, gender: str = "male", **extra: Any) -> dict[str, Any]:
    body = {"resourceType": "Patient", "name": [{"text": name}], "birthDate": birth}
    return {**body, "gender": gender, **extra}


def mrn(value: str) -> dict[str, Any]:
    return {"type": MR_TYPE, "system": "https://his.benhvien.example/mrn", "value": value}


@pytest.fixture
def lan() -> Person:
    return registry.register_person(
        actor="desk",
        full_name="Nguyễn Thị Lan",
        birth_date=dt.date(1990, 5, 1),
        sex="female",
        citizen_id="001190004321",
        phone="0912345678",
    ).person


@pytest.fixture
def namesakes() -> list[Person]:
    return [
        registry.register_person(
            actor="desk", full_name="Đinh Công Tráng", birth_date=day, sex="male", ward_code="00025"
        ).person
        for day in (dt.date(1951, 2, 2), dt.date(1951, 9, 30))
    ]


def test_a_patient_with_a_known_citizen_id_links_to_the_person(lan):
    count = Person.objects.count()
    body = patient(
        "NGUYEN THI LAN",
        "1990-05-01",
        "female",
        identifier=[CCCD, mrn("HS-77")],
    )
    answer = send(hospital(), "post", "/Patient", body)
    assert answer.status_code == 200
    assert answer.json()["id"] == str(lan.pk)
    assert answer.json()["name"][0]["text"] == "Nguyễn Thị Lan"  # the registry's, not the copy's
    assert answer["ETag"] == 'W/"2"'  # the hospital's number is now on the person's Patient
    assert Person.objects.count() == count
    assert PersonIdentifier.objects.get(kind="hospital_record", issuer=HOSPITAL).person == lan


def test_a_hospital_number_seen_before_links_at_once(lan):
    first = patient("Nguyễn Thị Lan", "1990-05-01", "female", identifier=[CCCD, mrn("HS-77")])
    client = hospital()
    assert send(client, "post", "/Patient", first).status_code == 200
    # Later, a record with only the number and a misspelt name.
    later = patient("Nguyen T. Lanh", "1990", "female", identifier=[mrn("HS-77")])
    answer = send(client, "post", "/Patient", later)
    assert (answer.status_code, answer.json()["id"]) == (200, str(lan.pk))
    matched = AuditEntry.objects.filter(action="person.matched").order_by("-id").first()
    assert matched is not None
    assert matched.details["method"] == "hospital_record"


def test_a_new_patient_is_registered_and_read_back(lan):
    body = patient(
        "Trương Văn Mới",
        "2001-12-24",
        identifier=[{"system": f"{VN}/national_id", "value": "001201009999"}, mrn("HS-88")],
        telecom=[{"system": "phone", "value": "+84 98 765 4321"}],
        address=[{"use": "home", "line": ["Số 12 ngõ 34 phố Đội Cấn"]}],
    )
    client = hospital()
    made = send(client, "post", "/Patient", body)
    assert made.status_code == 201
    person = Person.objects.get(pk=int(made.json()["id"]))
    assert (person.full_name, person.phone) == ("Trương Văn Mới", "0987654321")
    assert made["Location"].endswith(f"/fhir/R4/Patient/{person.pk}/_history/1")
    assert set(person.identifiers.values_list("kind", "value")) == {
        (IdentifierKind.CITIZEN_ID, "001201009999"),
        (IdentifierKind.HOSPITAL_RECORD, "HS-88"),
    }
    assert send(client, "get", f"/Patient/{person.pk}").json()["birthDate"] == "2001-12-24"
    stored = Resource.objects.get(resource_type="Patient", logical_id=str(person.pk))
    assert (stored.person_id, stored.source) == (person.pk, "registry")
    # Sent again (a retry): linked to the same person, nothing new.
    again = send(client, "post", "/Patient", body)
    assert (again.status_code, again.json()["id"]) == (200, str(person.pk))
    assert Person.objects.filter(full_name="Trương Văn Mới").count() == 1


def test_a_near_miss_is_registered_provisionally_and_put_before_a_clerk(namesakes):
    count = Person.objects.count()
    answer = send(hospital(), "post", "/Patient", patient("Đinh Công Tráng", "1951"))
    assert answer.status_code == 201  # the hospital gets an id to file its records under
    provisional = int(answer.json()["id"])
    assert provisional not in {p.pk for p in namesakes}
    assert Person.objects.count() == count + 1
    item = ReviewItem.objects.get(kind=ReviewKind.MATCH_REVIEW, status=ReviewStatus.OPEN)
    assert item.payload["provisional_person_id"] == provisional
    assert {c["person_id"] for c in item.payload["candidates"]} == {p.pk for p in namesakes}

    registry.resolve_review_item(
        item=item, decision="link", person_id=namesakes[0].pk, actor="clerk"
    )
    replaced = send(hospital(), "get", f"/Patient/{provisional}")
    assert replaced.json()["id"] == str(namesakes[0].pk)  # the survivor answers
    row = Resource.objects.get(resource_type="Patient", logical_id=str(provisional))
    assert row.body["active"] is False
    assert row.body["link"][0]["other"]["reference"] == f"Patient/{namesakes[0].pk}"


def test_an_update_that_the_registry_confirms_links_and_one_it_does_not_is_refused(lan):
    client = hospital()
    body = patient("Nguyễn Thị Lan", "1990-05-01", "female", identifier=[CCCD])
    confirmed = send(client, "put", f"/Patient/{lan.pk}", {**body, "id": str(lan.pk)})
    assert (confirmed.status_code, confirmed.json()["id"]) == (200, str(lan.pk))

    other = registry.register_person(actor="desk", full_name="Bùi Văn Khác", birth_year=1960)
    count = Person.objects.count()
    refused = send(client, "put", f"/Patient/{other.person.pk}", body)
    assert refused.status_code == 409
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "patient.not_this_person"
    assert Person.objects.count() == count
    assert send(client, "put", "/Patient/987654321", body).status_code == 404
    mismatch = send(client, "put", f"/Patient/{lan.pk}", {**body, "id": "5"})
    assert mismatch.status_code == 400


def test_a_conditional_update_over_http_goes_to_the_registry_as_in_a_bundle(lan):
    client = hospital()
    body = patient("Nguyễn Thị Lan", "1990-05-01", "female", identifier=[CCCD, mrn("HS-5")])
    by_number = f"identifier={VN}/national_id|001190004321"
    linked = send(client, "put", f"/Patient?{by_number}", body)
    assert (linked.status_code, linked.json()["id"]) == (200, str(lan.pk))
    assert PersonIdentifier.objects.get(kind="hospital_record", value="HS-5").person == lan
    # The same in a transaction Bundle answers the same.
    entry = {"resource": body, "request": {"method": "PUT", "url": f"Patient?{by_number}"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    in_bundle = send(client, "post", "/", bundle).json()["entry"][0]["response"]
    assert (in_bundle["status"][:3], in_bundle["location"].split("/")[1]) == ("200", str(lan.pk))

    count = Person.objects.count()
    new = patient("Trương Văn Mới", "2001-12-24", identifier=[mrn("HS-88")])
    made = send(client, "put", "/Patient?identifier=https://his.benhvien.example/mrn|HS-88", new)
    assert made.status_code == 201
    assert Person.objects.count() == count + 1
    assert made.json()["id"] != "HS-88"  # the registry's id, never one from outside
    # Criteria naming Lan with a record of someone else: refused, nothing written.
    other = patient("Bùi Văn Khác", "1960-01-01", identifier=[mrn("HS-9")])
    refused = send(client, "put", f"/Patient?{by_number}", other)
    assert refused.status_code == 409
    assert Person.objects.count() == count + 1
    capability = send(client, "get", "/metadata").json()["rest"][0]["resource"]
    assert next(r for r in capability if r["type"] == "Patient")["conditionalUpdate"] is True


def test_a_card_sent_by_a_hospital_never_overwrites_the_registry(lan):
    body = patient(
        "Nguyễn Thị Lan",
        "1990-05-01",
        "female",
        identifier=[CCCD],
        telecom=[{"system": "phone", "value": "0900000000"}],
    )
    answer = send(hospital(), "put", f"/Patient/{lan.pk}", body)
    assert answer.json()["telecom"][0]["value"] == "0912345678"
    lan.refresh_from_db()
    assert lan.phone == "0912345678"


def test_a_conditional_create_of_a_known_identifier_writes_nothing(lan):
    body = patient("Nguyễn Thị Lan", "1990-05-01", "female", identifier=[mrn("HS-1")])
    condition = f"identifier={VN}/national_id|001190004321"
    answer = send(hospital(), "post", "/Patient", body, **{"If-None-Exist": condition})
    assert (answer.status_code, answer.json()["id"]) == (200, str(lan.pk))
    assert not PersonIdentifier.objects.filter(kind="hospital_record").exists()


def test_a_client_without_the_right_to_see_persons_learns_only_where_the_patient_is(lan):
    writer = his("write_records")
    body = patient("Nguyễn Thị Lan", "1990-05-01", "female", identifier=[CCCD])
    answer = send(writer, "post", "/Patient", body)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer["Location"].endswith(f"/Patient/{lan.pk}/_history/1")
    assert send(his("read_records"), "post", "/Patient", body).status_code == 403


def test_a_patient_with_nothing_to_match_or_invalid_is_refused():
    client = hospital()
    empty = send(client, "post", "/Patient", {"resourceType": "Patient", "gender": "male"})
    assert empty.status_code == 400
    bad = send(client, "post", "/Patient", patient("Ai Đó", "1990", gender="x"))
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"][0].endswith("gender")


def parameters(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "resource", "resource": body}]
    if "only_certain" in extra:
        params.append({"name": "onlyCertainMatches", "valueBoolean": extra["only_certain"]})
    if "count" in extra:
        params.append({"name": "count", "valueInteger": extra["count"]})
    return {"resourceType": "Parameters", "parameter": params}


def test_match_grades_a_certain_match_and_leaves_the_registry_unchanged(lan):
    count, items = Person.objects.count(), ReviewItem.objects.count()
    body = patient("Nguyen Thi Lan", "1990-05-01", "female", identifier=[CCCD])
    bundle = send(hospital(), "post", "/Patient/$match", parameters(body)).json()
    assert (bundle["resourceType"], bundle["type"], bundle["total"]) == ("Bundle", "searchset", 1)
    entry = bundle["entry"][0]
    assert entry["resource"]["id"] == str(lan.pk)
    assert entry["search"]["mode"] == "match"
    assert entry["search"]["score"] == 1.0
    assert entry["search"]["extension"] == [{"url": GRADE, "valueCode": "certain"}]
    assert (Person.objects.count(), ReviewItem.objects.count()) == (count, items)
    assert AuditEntry.objects.filter(action="person.match_query").exists()


def test_match_grades_namesakes_below_certain_and_only_certain_leaves_them_out(namesakes):
    body = patient("Đinh Công Tráng", "1951")
    bundle = send(hospital(), "post", "/Patient/$match", parameters(body)).json()
    assert {e["resource"]["id"] for e in bundle["entry"]} == {str(p.pk) for p in namesakes}
    grades = {e["search"]["extension"][0]["valueCode"] for e in bundle["entry"]}
    assert grades <= {"probable", "possible"}
    scores = [e["search"]["score"] for e in bundle["entry"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s < 1 for s in scores)
    only = parameters(body, only_certain=True)
    assert send(hospital(), "post", "/Patient/$match", only).json()["total"] == 0
    one = send(hospital(), "post", "/Patient/$match", parameters(body, count=1)).json()
    assert one["total"] == 1


def test_match_needs_the_right_to_see_persons_and_a_patient(lan):
    body = parameters(patient("Nguyễn Thị Lan", "1990-05-01", "female"))
    assert send(his("read_records"), "post", "/Patient/$match", body).status_code == 403
    assert send(Client(), "post", "/Patient/$match", body).status_code == 401
    wrong = {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 2}]}
    assert send(hospital(), "post", "/Patient/$match", wrong).status_code == 400
