"""The search engine over the store: index rows written with each version, every kind of
parameter with its prefixes and modifiers, chains, `_has`, includes, sorting and keyset
paging, the Patient compartment, and `find_by_criteria` for conditional operations."""

from __future__ import annotations

from typing import Any

import pytest

from cityhealth.core.errors import InvalidInput
from cityhealth.people.services import register_person
from cityhealth.records import errors, search, services
from cityhealth.records.models import Resource, SearchString, SearchToken

pytestmark = pytest.mark.django_db
LOINC = "http://loinc.org"
CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"


def person(name: str = "Nguyễn Văn An") -> int:
    return register_person(actor="user:1", full_name=name, birth_year=1980).person.pk


def patient(person_id: int, **fields: Any) -> Resource:
    """The Patient row of a person, written through the store's write path (as the
    registry's projection does)."""
    body = {"resourceType": "Patient", "id": str(person_id), **fields}
    written, _ = services.update_resource(
        resource_type="Patient", logical_id=str(person_id), body=body, source="registry"
    )
    return written


def observation(who: int | None = None, **fields: Any) -> Resource:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8302-2", "display": "Body height"}]},
        "effectiveDateTime": "2024-03-15T08:00:00+07:00",
        "valueQuantity": {
            "value": 102.5,
            "unit": "cm",
            "system": "http://unitsofmeasure.org",
            "code": "cm",
        },
    }
    if who is not None:
        body["subject"] = {"reference": f"Patient/{who}"}
    body.update(fields)
    return services.create_resource(body=body, source="BV-TEST")


def ids(query: str, resource_type: str = "Observation", **kwargs: Any) -> set[str]:
    from urllib.parse import parse_qsl

    result = search.search(
        resource_type=resource_type, params=parse_qsl(query, keep_blank_values=True), **kwargs
    )
    return {row.logical_id for row in result.matches}


def practitioner(name: str, **fields: Any) -> Resource:
    body = {"resourceType": "Practitioner", "name": [{"text": name}], **fields}
    return services.create_resource(body=body, source="BV-TEST")


# --- index maintenance ------------------------------------------------------------------------


def test_index_rows_are_replaced_on_update_and_removed_on_delete():
    made = observation()
    assert SearchToken.objects.filter(resource=made, param="code", code="8302-2").exists()
    services.update_resource(
        resource_type="Observation",
        logical_id=made.logical_id,
        body={
            "resourceType": "Observation",
            "status": "amended",
            "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        },
        source="BV-TEST",
    )
    codes = set(
        SearchToken.objects.filter(resource=made, param="code").values_list("code", flat=True)
    )
    assert codes == {"29463-7"}
    assert ids("code=8302-2") == set()
    services.delete_resource(resource_type="Observation", logical_id=made.logical_id, source="x")
    assert not SearchToken.objects.filter(resource=made).exists()
    assert ids("code=29463-7") == set()


def test_the_bulk_indexer_writes_the_same_rows_as_the_single_one():
    one, two = observation(), observation(status="preliminary")
    before = sorted(SearchToken.objects.values_list("resource_id", "param", "system", "code"))
    search.remove_index([one.pk, two.pk])
    assert not SearchToken.objects.exists()
    search.index_resources([one, two])
    assert (
        sorted(SearchToken.objects.values_list("resource_id", "param", "system", "code")) == before
    )


# --- token ------------------------------------------------------------------------------------


def test_token_search_by_code_system_and_both_and_or_lists():
    height = observation()
    weight = observation(code={"coding": [{"system": LOINC, "code": "29463-7"}]})
    other = observation(code={"coding": [{"system": "urn:local", "code": "8302-2"}]})
    assert ids("code=8302-2") == {height.logical_id, other.logical_id}
    assert ids(f"code={LOINC}|8302-2") == {height.logical_id}
    assert ids(f"code={LOINC}|") == {height.logical_id, weight.logical_id}
    assert ids("code=|8302-2") == set()  # no coding without a system
    assert ids(f"code={LOINC}|8302-2,{LOINC}|29463-7") == {height.logical_id, weight.logical_id}
    assert ids("code:not=8302-2") == {weight.logical_id}
    assert ids("code:text=body") == {height.logical_id}
    assert ids("status=final&code=29463-7") == {weight.logical_id}


def test_identifier_search_finds_the_one_resource_and_an_id_search_too():
    who = practitioner("Trần Thị Bình", identifier=[{"system": CCCD, "value": "001080012345"}])
    practitioner("Lê Văn Cường", identifier=[{"system": CCCD, "value": "001080099999"}])
    assert ids(f"identifier={CCCD}|001080012345", "Practitioner") == {who.logical_id}
    assert ids("identifier=001080012345", "Practitioner") == {who.logical_id}
    assert ids(f"_id={who.logical_id}", "Practitioner") == {who.logical_id}
    assert len(ids(f"_id:not={who.logical_id}", "Practitioner")) == 1


# --- string -----------------------------------------------------------------------------------


def test_string_search_folds_case_and_vietnamese_diacritics():
    nguyen = practitioner("Nguyễn Thị Hường")
    practitioner("Đặng Văn Đức")
    assert SearchString.objects.filter(resource=nguyen, value="nguyen thi huong").exists()
    assert ids("name=nguyen", "Practitioner") == {nguyen.logical_id}
    assert ids("name=NGUYỄN", "Practitioner") == {nguyen.logical_id}
    assert ids("name=dang", "Practitioner") != {nguyen.logical_id}
    assert ids("name=huong", "Practitioner") == set()  # a prefix of the whole, not any word
    assert ids("name:contains=huong", "Practitioner") == {nguyen.logical_id}
    assert ids("name:exact=Nguyễn Thị Hường", "Practitioner") == {nguyen.logical_id}
    assert ids("name:exact=nguyen thi huong", "Practitioner") == set()
    assert ids("name=100%25", "Practitioner") == set()  # LIKE wildcards are literal


# --- reference, chains, _has ------------------------------------------------------------------


def test_reference_search_by_type_and_id_and_chains_and_has():
    an, binh = person("Nguyễn Văn An"), person("Trần Thị Bình")
    patient(an, identifier=[{"system": CCCD, "value": "001080000001"}], name=[{"text": "An"}])
    patient(binh, identifier=[{"system": CCCD, "value": "001080000002"}])
    mine, theirs = observation(an), observation(binh)
    assert ids(f"subject=Patient/{an}") == {mine.logical_id}
    assert ids(f"patient={an}") == {mine.logical_id}
    assert ids(f"subject:Patient={binh}") == {theirs.logical_id}
    assert ids(f"subject=Patient/{an},Patient/{binh}") == {mine.logical_id, theirs.logical_id}
    assert ids(f"subject:Patient.identifier={CCCD}|001080000001") == {mine.logical_id}
    assert ids(f"patient.identifier={CCCD}|001080000002") == {theirs.logical_id}
    assert ids("subject:missing=true") == set()
    assert ids(f"_has:Observation:patient:_id={mine.logical_id}", "Patient") == {str(an)}
    assert ids("_has:Observation:subject:code=8302-2", "Patient") == {str(an), str(binh)}


def test_a_multi_level_chain_follows_each_reference():
    org = services.create_resource(
        body={"resourceType": "Organization", "name": "Bệnh viện Xanh Pôn"}, source="x"
    )
    role = services.create_resource(
        body={
            "resourceType": "PractitionerRole",
            "organization": {"reference": f"Organization/{org.logical_id}"},
        },
        source="x",
    )
    report = services.create_resource(
        body={
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {"text": "CBC"},
            "performer": [{"reference": f"PractitionerRole/{role.logical_id}"}],
        },
        source="x",
    )
    query = "performer:PractitionerRole.organization.name=benh vien xanh"
    assert ids(query, "DiagnosticReport") == {report.logical_id}
    assert ids("performer:PractitionerRole.organization.name=other", "DiagnosticReport") == set()


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("date=2024", True),
        ("date=2024-03", True),
        ("date=2024-03-15", True),
        ("date=2024-03-14", False),
        ("date=2024-04", False),
        ("date=ge2024-03-15", True),
        ("date=gt2024-03-15", False),
        ("date=gt2024-03-14", True),
        ("date=lt2024-03-15", False),
        ("date=le2024-03-15", True),
        ("date=lt2024-03-16", True),
        ("date=sa2024-02", True),
        ("date=eb2024-04", True),
        ("date=eb2024-03", False),
        ("date=ne2024-03", False),
        ("date=ne2024-02", True),
        ("date=2024-03-15T01:00:00Z", True),  # 08:00 in Hà Nội
        ("date=2024-03-15T08:00:00+07:00", True),
        ("date=2024-03-15T08:00:01+07:00", False),
        ("date=ap2024-03-10", True),
    ],
)
def test_date_prefixes_follow_the_precision_of_the_value(query, found):
    made = observation()
    assert (made.logical_id in ids(query)) is found


def test_a_period_matches_a_date_it_contains_only_with_the_overlap_prefixes():
    encounter = services.create_resource(
        body={
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "period": {"start": "2024-03-01", "end": "2024-03-10"},
        },
        source="x",
    )
    assert ids("date=2024-03", "Encounter") == {encounter.logical_id}
    assert ids("date=2024-03-05", "Encounter") == set()  # the stay is longer than that day
    assert ids("date=ge2024-03-05", "Encounter") == {encounter.logical_id}
    assert ids("date=le2024-03-05", "Encounter") == {encounter.logical_id}
    assert ids("date=sa2024-03-05", "Encounter") == set()


def test_a_bad_date_is_refused():
    with pytest.raises(InvalidInput):
        ids("date=2024-13")
    with pytest.raises(InvalidInput):
        ids("date=yesterday")


# --- quantity, number, uri --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("value-quantity=102.5", True),
        ("value-quantity=103", True),  # 103 means [102.5, 103.5)
        ("value-quantity=102", False),
        ("value-quantity=102.5|http://unitsofmeasure.org|cm", True),
        ("value-quantity=102.5|http://unitsofmeasure.org|mm", False),
        ("value-quantity=102.5||cm", True),
        ("value-quantity=gt100", True),
        ("value-quantity=gt102.5", False),
        ("value-quantity=ge102.5", True),
        ("value-quantity=lt200", True),
        ("value-quantity=le102.4", False),
        ("value-quantity=ap100", True),
        ("value-quantity=ap80", False),
        ("value-quantity=ne102.5", False),
    ],
)
def test_quantity_prefixes_and_units(query, found):
    made = observation()
    assert (made.logical_id in ids(query)) is found


def test_uri_search_is_exact_or_below():
    made = services.create_resource(
        body={
            "resourceType": "Procedure",
            "status": "completed",
            "subject": {"reference": f"Patient/{person()}"},
            "instantiatesUri": ["http://example.org/protocols/appendectomy"],
        },
        source="x",
    )
    uri = "http://example.org/protocols/appendectomy"
    assert ids(f"instantiates-uri={uri}", "Procedure") == {made.logical_id}
    assert ids("instantiates-uri=http://example.org/protocols", "Procedure") == set()
    below = "instantiates-uri:below=http://example.org/protocols"
    assert ids(below, "Procedure") == {made.logical_id}


# --- unknown parameters, sorting, paging, includes --------------------------------------------


def test_an_unknown_parameter_is_refused_unless_handling_is_lenient():
    observation()
    with pytest.raises(search.UnknownParameter):
        ids("colour=blue")
    with pytest.raises(search.UnknownParameter):
        ids("code:below=8302-2")
    result = search.search(resource_type="Observation", params=[("colour", "blue")], lenient=True)
    assert len(result.matches) == 1
    assert "colour" in result.warnings[0]


def test_sorting_by_date_descending_with_keyset_pages_visits_each_match_once():
    made = [
        observation(effectiveDateTime=f"2024-03-{day:02d}T08:00:00+07:00") for day in range(1, 8)
    ]
    services.create_resource(  # no date: sorted last
        body={"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        source="x",
    )
    seen: list[str] = []
    params = [("_sort", "-date"), ("_count", "3")]
    page = search.search(resource_type="Observation", params=params)
    pages = 1
    while True:
        seen += [row.logical_id for row in page.matches]
        if page.next_page is None:
            break
        page = search.search(
            resource_type="Observation", params=[*params, ("_page", page.next_page)]
        )
        pages += 1
    assert pages == 3
    assert seen[:7] == [row.logical_id for row in reversed(made)]
    assert len(seen) == len(set(seen)) == 8
    back = search.search(
        resource_type="Observation", params=[*params, ("_page", page.previous_page or "")]
    )
    assert [row.logical_id for row in back.matches] == seen[3:6]


def test_totals_counts_and_summary_count():
    for _ in range(3):
        observation()
    assert search.search(resource_type="Observation", params=[("_count", "2")]).total is None
    accurate = search.search(
        resource_type="Observation", params=[("_count", "2"), ("_total", "accurate")]
    )
    assert accurate.total == 3
    counted = search.search(resource_type="Observation", params=[("_summary", "count")])
    assert (counted.total, counted.matches) == (3, [])


def test_include_and_revinclude_with_iterate():
    an = person()
    patient(an)
    made = observation(an)
    provenance = services.create_resource(
        body={
            "resourceType": "Provenance",
            "target": [{"reference": f"Observation/{made.logical_id}"}],
            "recorded": "2024-03-15T08:00:00Z",
            "agent": [{"who": {"display": "BV"}}],
        },
        source="x",
    )
    result = search.search(
        resource_type="Observation",
        params=[("_include", "Observation:subject"), ("_revinclude", "Provenance:target")],
    )
    included = {(row.resource_type, row.logical_id) for row in result.included}
    assert included == {("Patient", str(an)), ("Provenance", provenance.logical_id)}
    iterated = search.search(
        resource_type="Provenance",
        params=[("_include", "Provenance:target"), ("_include:iterate", "Observation:subject")],
    )
    assert {row.resource_type for row in iterated.included} == {"Observation", "Patient"}


def test_an_access_filter_on_the_person_column_applies_to_matches_and_includes():
    an, binh = person(), person("Trần Thị Bình")
    patient(an)
    patient(binh)
    observation(an)
    hidden = observation(binh)

    def deny(person: str, resource_type: str) -> tuple[str, list[Any]]:
        return f"{person} IS NULL OR {person} <> %s", [binh]

    result = search.search(
        resource_type="Observation", params=[("_include", "Observation:subject")], access=deny
    )
    assert hidden.logical_id not in {row.logical_id for row in result.matches}
    assert {row.logical_id for row in result.included} == {str(an)}


# --- compartment and conditional operations ---------------------------------------------------


def test_a_resource_lands_in_its_patients_compartment_and_a_stranger_is_refused():
    an = person()
    made = observation(an)
    assert made.person_id == an
    assert patient(an).person_id == an
    with pytest.raises(errors.InvalidResource) as refused:
        observation(999_999_999)
    assert refused.value.issues[0][0] == "Observation.subject"
    with pytest.raises(errors.InvalidResource):
        services.create_resource(
            body={
                "resourceType": "Condition",
                "subject": {"reference": "Patient/not-a-person"},
            },
            source="x",
        )
    assert observation().person_id is None


def test_find_by_criteria_answers_conditional_operations():
    who = practitioner("Trần Thị Bình", identifier=[{"system": CCCD, "value": "001080012345"}])
    found = search.find_by_criteria(
        resource_type="Practitioner", query=f"identifier={CCCD}|001080012345"
    )
    assert [row.logical_id for row in found] == [who.logical_id]
    practitioner("Trần Thị Bình 2", identifier=[{"system": CCCD, "value": "001080012345"}])
    assert (
        len(search.find_by_criteria(resource_type="Practitioner", query="identifier=001080012345"))
        == 2
    )
    assert search.find_by_criteria(resource_type="Practitioner", query="identifier=nobody") == []
    with pytest.raises(InvalidInput):
        search.find_by_criteria(resource_type="Practitioner", query="colour=blue")


def test_missing_finds_resources_without_the_element_for_every_kind():
    with_all = observation()
    bare = services.create_resource(
        body={"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
        source="x",
    )
    for code in ("date", "value-quantity", "identifier", "subject", "value-string"):
        assert bare.logical_id in ids(f"{code}:missing=true"), code
    assert ids("date:missing=false") == {with_all.logical_id}
    assert ids("value-quantity:missing=false") == {with_all.logical_id}
    with pytest.raises(InvalidInput):
        ids("date:missing=perhaps")


def test_a_reference_is_found_by_its_identifier_and_a_wrong_type_modifier_is_refused():
    made = observation(
        performer=[{"identifier": {"system": CCCD, "value": "001080012345"}, "display": "BS"}]
    )
    assert ids(f"performer:identifier={CCCD}|001080012345") == {made.logical_id}
    assert ids("performer:identifier=001080012345") == {made.logical_id}
    assert ids(f"performer:identifier={CCCD}|000") == set()
    with pytest.raises(search.UnknownParameter):
        ids("subject:Spaceship=1")


def test_several_sort_keys_and_last_updated():
    first = practitioner("An", gender="male")
    second = practitioner("Bình", gender="female")
    third = practitioner("Cường", gender="male")
    result = search.search(
        resource_type="Practitioner", params=[("_sort", "gender,-_lastUpdated,_id")]
    )
    assert [row.logical_id for row in result.matches] == [
        second.logical_id,
        *sorted([third.logical_id, first.logical_id], key=lambda i: i != third.logical_id),
    ]
    by_name = search.search(resource_type="Practitioner", params=[("_sort", "-name")])
    assert by_name.matches[0].logical_id == third.logical_id
    with pytest.raises(search.UnknownParameter):
        search.search(resource_type="Practitioner", params=[("_sort", "colour")])


def test_an_estimated_total_and_a_tampered_page_cursor():
    observation()
    estimated = search.search(resource_type="Observation", params=[("_total", "estimate")])
    assert estimated.total is not None
    assert estimated.total >= 1
    with pytest.raises(InvalidInput):
        search.search(resource_type="Observation", params=[("_page", "bm90LWEtY3Vyc29y")])
    with pytest.raises(InvalidInput):
        search.search(resource_type="Observation", params=[("_count", "lots")])


def test_and_of_two_occurrences_narrows_and_an_or_list_widens():
    early = observation(effectiveDateTime="2024-01-10")
    late = observation(effectiveDateTime="2024-06-10")
    assert ids("date=ge2024-01-01&date=le2024-03-01") == {early.logical_id}
    assert ids("date=2024-01-10,2024-06-10") == {early.logical_id, late.logical_id}
    assert ids("_lastUpdated=gt2000-01-01") == {early.logical_id, late.logical_id}
    assert ids("_lastUpdated=lt2000-01-01") == set()


def test_revinclude_of_any_type_and_include_of_every_reference():
    an = person()
    patient(an)
    made = observation(an)
    services.create_resource(
        body={
            "resourceType": "Provenance",
            "target": [{"reference": f"Observation/{made.logical_id}"}],
            "recorded": "2024-03-15T08:00:00Z",
            "agent": [{"who": {"display": "BV"}}],
        },
        source="x",
    )
    everything = search.search(
        resource_type="Observation", params=[("_include", "*"), ("_revinclude", "*")]
    )
    assert {row.resource_type for row in everything.included} == {"Patient", "Provenance"}


def test_a_query_string_becomes_a_condition_other_reads_can_filter_by():
    final, other = observation(), observation(status="preliminary")
    sql, params = search.query_condition(
        resource_type="Observation", alias="records_resources", query="status=final&code=8302-2"
    )
    found = Resource.objects.filter(resource_type="Observation").extra(where=[sql], params=params)  # noqa: S610
    assert {row.logical_id for row in found} == {final.logical_id}
    assert other.logical_id not in {row.logical_id for row in found}


# --- prepared searches (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgres_only
def test_a_search_naming_one_patient_or_identifier_is_prepared_and_others_are_not():
    from django.db import connection

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return int(cursor.fetchone()[0])

    lan, minh = person("Lan"), person("Minh")
    observation(lan)
    observation(minh, code={"coding": [{"system": LOINC, "code": "29463-7"}]})
    before = prepared()
    assert len(ids(f"patient={lan}&code={LOINC}|8302-2")) == 1
    assert prepared() == before + 1
    # The same shape with other values reuses the statement (and still finds the right rows).
    assert len(ids(f"patient={minh}&code={LOINC}|29463-7")) == 1
    assert ids(f"patient={minh}&code={LOINC}|8302-2") == set()
    assert prepared() == before + 1
    # No anchor (a code alone, an OR-list of patients, a system without a value): planned each time.
    assert len(ids(f"code={LOINC}|8302-2")) == 1
    assert len(ids(f"patient={lan},{minh}")) == 2
    assert ids(f"identifier={CCCD}|") == set()
    assert prepared() == before + 1
