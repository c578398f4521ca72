"""The FHIR Patient's shape, checked by hand (no FHIR library is installed)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from cityhealth.people import services
from cityhealth.people.enums import Sex
from cityhealth.people.fhir import IDENTIFIER_SYSTEMS, person_as_fhir_patient
from cityhealth.people.models import Person, PersonIdentifier

pytestmark = pytest.mark.django_db

NATIONAL_ID = "http://fhir.ehealth.gov.vn/core/sid/national_id"
OLD_ID = "http://fhir.ehealth.gov.vn/core/sid/citizen_id"
PASSPORT = "http://fhir.ehealth.gov.vn/core/sid/passport_number"
INSURANCE = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"
INTERNAL = "http://fhir.ehealth.gov.vn/core/sid/patient-internal-id"
DATE = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")
PATIENT_FIELDS = {
    "resourceType",
    "id",
    "meta",
    "identifier",
    "active",
    "name",
    "telecom",
    "gender",
    "birthDate",
    "deceasedBoolean",
    "address",
    "contact",
    "link",
}


def check_no_empty_values(value: Any, path: str = "Patient") -> None:
    """FHIR JSON forbids empty strings, arrays and objects, and nulls."""
    assert value is not None, path
    if isinstance(value, str):
        assert value.strip(), path
    elif isinstance(value, list):
        assert value, path
        for index, item in enumerate(value):
            check_no_empty_values(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        assert value, path
        for key, item in value.items():
            check_no_empty_values(item, f"{path}.{key}")


def check_patient(resource: dict[str, Any]) -> None:
    json.dumps(resource)  # plain JSON
    check_no_empty_values(resource)
    assert resource["resourceType"] == "Patient"
    assert set(resource) <= PATIENT_FIELDS
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource["id"])
    assert isinstance(resource["active"], bool)
    assert resource["gender"] in {"male", "female", "other", "unknown"}
    assert isinstance(resource["deceasedBoolean"], bool)
    if "birthDate" in resource:
        assert DATE.fullmatch(resource["birthDate"])
    for identifier in resource["identifier"]:
        assert identifier["use"] in {"usual", "official", "temp", "secondary", "old"}
        assert re.fullmatch(r"(https?|urn):\S+", identifier["system"])
        assert isinstance(identifier["value"], str)
        for coding in identifier.get("type", {}).get("coding", []):
            assert {"system", "code"} <= set(coding)
        for bound in identifier.get("period", {}).values():
            assert DATE.fullmatch(bound)
    for name in resource["name"]:
        assert isinstance(name.get("given", []), list)
        assert name["text"]
    for link in resource.get("link", []):
        assert link["type"] in {"replaced-by", "replaces", "refer", "seealso"}
        assert re.fullmatch(r"Patient/[0-9]+", link["other"]["reference"])
    for contact in resource.get("contact", []):
        assert contact["relationship"][0]["coding"][0]["code"] in {"MTH", "FTH", "GUARD"}


def by_system(resource: dict[str, Any], system: str) -> list[dict[str, Any]]:
    return [i for i in resource["identifier"] if i["system"] == system]


def test_the_systems_are_those_of_the_vn_core_ig_reference():
    assert IDENTIFIER_SYSTEMS["citizen_id"] == NATIONAL_ID
    assert IDENTIFIER_SYSTEMS["old_id"] == OLD_ID
    assert IDENTIFIER_SYSTEMS["passport"] == PASSPORT
    assert IDENTIFIER_SYSTEMS["social_insurance"] == INSURANCE


@pytest.mark.usefixtures("hanoi_units")
def test_a_resident_with_history():
    person = services.register_person(
        actor="x",
        full_name="Nguyễn Thị Minh Anh",
        birth_date=dt.date(1995, 7, 12),
        sex=Sex.FEMALE,
        citizen_id="001195012345",
        old_id="012345678",
        phone="0912345678",
        ward_code="00004",
        address="Số 8 ngõ 15 phố Ví Dụ",
        insurance_code="DN4010123456789",
        insurance_valid_to=dt.date(2026, 12, 31),
    ).person
    services.record_id_reissue(
        person=person,
        new_citizen_id="001195099999",
        reason="cấp lại",
        actor="x",
        issued_on=dt.date(2025, 1, 15),
    )
    resource = person_as_fhir_patient(Person.objects.get(pk=person.pk))
    check_patient(resource)
    assert resource["id"] == str(person.pk)
    national = {i["value"]: i for i in by_system(resource, NATIONAL_ID)}
    assert national["001195099999"]["use"] == "official"
    assert national["001195099999"]["period"] == {"start": "2025-01-15"}
    assert national["001195012345"]["use"] == "old"
    assert national["001195012345"]["period"]["end"] == "2025-01-15"
    assert national["001195012345"]["type"]["coding"][0]["code"] == "NI"
    assert [i["value"] for i in by_system(resource, OLD_ID)] == ["012345678"]
    # The BHXH number is held once; the card adds its 15-character code with its validity.
    insurance = {i["value"]: i for i in by_system(resource, INSURANCE)}
    assert set(insurance) == {"0123456789", "DN4010123456789"}
    assert insurance["DN4010123456789"]["period"] == {"end": "2026-12-31"}
    assert by_system(resource, INTERNAL) == [
        {"use": "secondary", "system": INTERNAL, "value": str(person.pk)}
    ]
    assert resource["name"] == [
        {
            "use": "official",
            "text": "Nguyễn Thị Minh Anh",
            "family": "Nguyễn",
            "given": ["Thị", "Minh", "Anh"],
        }
    ]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == "1995-07-12"
    assert resource["telecom"] == [{"system": "phone", "value": "0912345678", "use": "mobile"}]
    (address,) = resource["address"]
    assert address["district"] == "Phường Ba Đình"
    assert address["line"] == ["Số 8 ngõ 15 phố Ví Dụ"]
    assert address["text"].startswith("Số 8 ngõ 15 phố Ví Dụ, Phường Ba Đình")
    assert resource["deceasedBoolean"] is False
    assert resource["active"] is True


def test_birth_date_at_its_precision_and_a_foreigner():
    person = services.register_person(
        actor="x", full_name="John Smith", birth_year=1950, nationality="GB", passport="C01X00T47"
    ).person
    resource = person_as_fhir_patient(person)
    check_patient(resource)
    assert resource["birthDate"] == "1950"
    assert resource["gender"] == "unknown"
    (passport,) = by_system(resource, PASSPORT)
    assert passport["value"] == "C01X00T47"
    assert passport["assigner"] == {"display": "GB"}
    assert "address" not in resource
    assert "telecom" not in resource
    month = services.register_person(
        actor="x",
        full_name="Lê Thị Hoa",
        birth_date=dt.date(1960, 5, 6),
        birth_date_precision="month",
    ).person
    assert person_as_fhir_patient(month)["birthDate"] == "1960-05"
    unknown = services.register_person(actor="x").person
    resource = person_as_fhir_patient(unknown)
    check_patient(resource)
    assert "birthDate" not in resource
    assert resource["name"][0]["family"] == "Chưa"


def test_a_deceased_child_with_a_guardian_and_merged_records():
    mother = services.register_person(actor="x", full_name="Trần Thị Mẹ", birth_year=1990).person
    child = services.register_person(
        actor="x",
        full_name="Bé",
        birth_year=2024,
        guardian=mother,
        guardian_relationship="mother",
    ).person
    Person.objects.filter(pk=child.pk).update(deceased=True)
    child.refresh_from_db()
    resource = person_as_fhir_patient(child)
    check_patient(resource)
    assert resource["deceasedBoolean"] is True
    assert resource["name"] == [{"use": "official", "text": "Bé", "given": ["Bé"]}]
    (contact,) = resource["contact"]
    assert contact["relationship"][0]["coding"][0]["code"] == "MTH"
    assert contact["name"] == {"text": "Trần Thị Mẹ"}

    duplicate = services.register_person(actor="x", full_name="Tran Thi Me", birth_year=1990).person
    PersonIdentifier.objects.create(
        person=duplicate, kind="hospital_record", issuer="01003", value="A1"
    )
    services.merge_persons(survivor=mother, retired=duplicate, reason="trùng", actor="x")
    retired = person_as_fhir_patient(Person.objects.get(pk=duplicate.pk))
    check_patient(retired)
    assert retired["active"] is False
    assert retired["link"] == [
        {"other": {"reference": f"Patient/{mother.pk}"}, "type": "replaced-by"}
    ]
    survivor = person_as_fhir_patient(Person.objects.get(pk=mother.pk))
    check_patient(survivor)
    assert survivor["link"] == [
        {"other": {"reference": f"Patient/{duplicate.pk}"}, "type": "replaces"}
    ]
    (record,) = [i for i in survivor["identifier"] if i["value"] == "A1"]
    assert record["system"] == "urn:cityhealth:sid:hospital-record:01003"
    assert record["type"]["coding"][0]["code"] == "MR"
