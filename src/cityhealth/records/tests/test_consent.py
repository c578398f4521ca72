"""Consent resources as rules, and the access predicate as SQL over the compartment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cityhealth.facilities.models import Facility
from cityhealth.people.models import Person
from cityhealth.records.consent import Accessor, access_predicate, may_access
from cityhealth.records.models import ConsentRule, Resource
from cityhealth.records.selectors import search_resources
from cityhealth.records.services import create_resource, update_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def hospitals() -> None:
    for code in ("BV-A", "BV-B"):
        Facility.objects.create(code=code, name=code, kind="general_hospital")
    Facility.objects.create(code="TYT-1", name="Trạm y tế", kind="commune_health_station")


def consent(person: Person, provision: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": status,
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"code": "59284-0", "system": "http://loinc.org"}]}],
        "patient": {"reference": f"Patient/{person.pk}"},
        "provision": provision,
    }


def org(code: str) -> list[dict[str, Any]]:
    return [
        {"role": {"coding": [{"code": "IRCP"}]}, "reference": {"reference": f"Organization/{code}"}}
    ]


def seen(accessor: Accessor, person: Person) -> bool:
    return may_access(accessor, person_id=person.pk, resource_type="Observation")


@pytest.mark.usefixtures("hospitals")
def test_without_consent_the_public_hospitals_share_for_treatment_only():
    lan = Person.objects.create(full_name="Lan")
    assert seen(Accessor(organization="BV-A"), lan)
    assert not seen(Accessor(organization="BV-A", purpose="HPAYMT"), lan)
    assert not seen(Accessor(organization="TYT-1"), lan)
    assert not seen(Accessor(), lan)
    assert seen(Accessor(city_wide=True), lan)
    assert seen(Accessor(break_glass=True), lan)
    assert seen(Accessor(person_id=lan.pk, purpose="PATRQT"), lan)
    assert not seen(Accessor(person_id=lan.pk + 1), lan)


@pytest.mark.usefixtures("hospitals")
def test_deny_all_but_one_hospital_lets_that_one_in():
    lan = Person.objects.create(full_name="Lan")
    create_resource(
        body=consent(
            lan, {"type": "deny", "provision": [{"type": "permit", "actor": org("BV-B")}]}
        ),
        source="test",
    )
    assert not seen(Accessor(organization="BV-A"), lan)
    assert seen(Accessor(organization="BV-B"), lan)
    assert ConsentRule.objects.count() == 2


@pytest.mark.usefixtures("hospitals")
def test_a_deny_beats_a_permit_for_the_same_organization_and_periods_bound_rules():
    lan = Person.objects.create(full_name="Lan")
    create_resource(
        body=consent(
            lan,
            {
                "type": "permit",
                "actor": org("TYT-1"),
                "provision": [
                    {"type": "deny", "actor": org("TYT-1"), "period": {"end": "2020-01-01"}}
                ],
            },
        ),
        source="test",
    )
    # The deny ended in 2020: the permit stands now, but not at a time inside the deny.
    assert seen(Accessor(organization="TYT-1"), lan)
    condition, params = access_predicate(
        Accessor(organization="TYT-1"),
        person_column="r.person_id",
        at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC),
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT CAST(%s AS BIGINT) AS person_id) r WHERE {condition}",  # noqa: S608
            [lan.pk, *params],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.usefixtures("hospitals")
def test_an_inactive_or_updated_consent_keeps_no_stale_rules():
    lan = Person.objects.create(full_name="Lan")
    row = create_resource(body=consent(lan, {"type": "deny", "actor": org("BV-A")}), source="t")
    assert not seen(Accessor(organization="BV-A"), lan)
    update_resource(
        resource_type="Consent",
        logical_id=row.logical_id,
        body={**consent(lan, {"type": "deny", "actor": org("BV-A")}, status="inactive"),
              "id": row.logical_id},
        source="t",
    )  # fmt: skip
    assert not ConsentRule.objects.exists()
    assert seen(Accessor(organization="BV-A"), lan)


@pytest.mark.usefixtures("hospitals")
def test_the_predicate_filters_a_query_of_the_store():
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    for person in (lan, minh):
        create_resource(body={**obs, "subject": {"reference": f"Patient/{person.pk}"}}, source="t")
    create_resource(body={"resourceType": "Organization", "name": "BV"}, source="t")
    create_resource(body=consent(minh, {"type": "deny", "actor": org("BV-A")}), source="t")

    def visible(accessor: Accessor) -> set[tuple[str, int | None]]:
        table = Resource._meta.db_table
        condition, params = access_predicate(
            accessor, person_column=f"{table}.person_id", type_column=f"{table}.resource_type"
        )
        rows = Resource.objects.exclude(resource_type__in=["Patient", "Consent"]).extra(  # noqa: S610
            where=[condition], params=params
        )
        return set(rows.values_list("resource_type", "person_id"))

    assert visible(Accessor(organization="BV-A")) == {
        ("Observation", lan.pk),
        ("Organization", None),
    }
    assert visible(Accessor(organization="BV-B")) == {
        ("Observation", lan.pk), ("Observation", minh.pk), ("Organization", None),
    }  # fmt: skip
    assert visible(Accessor(person_id=minh.pk)) == {
        ("Observation", minh.pk),
        ("Organization", None),
    }


@pytest.mark.usefixtures("hospitals")
def test_chains_and_has_pass_only_through_resources_the_caller_may_see():
    lan, minh = Person.objects.create(full_name="Lan"), Person.objects.create(full_name="Minh")
    create_resource(body=consent(minh, {"type": "deny", "actor": org("BV-A")}), source="t")
    doctor = create_resource(
        body={"resourceType": "Practitioner", "name": [{"text": "Hà"}]}, source="t"
    )
    hidden = create_resource(
        body={
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "5195-3"}]},
            "subject": {"reference": f"Patient/{minh.pk}"},
            "performer": [{"reference": f"Practitioner/{doctor.logical_id}"}],
        },
        source="t",
    )
    panel = create_resource(
        body={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "panel"},
            "subject": {"reference": f"Patient/{lan.pk}"},
            "hasMember": [{"reference": f"Observation/{hidden.logical_id}"}],
        },
        source="t",
    )

    def found(accessor: Accessor, resource_type: str, name: str) -> list[str]:
        result = search_resources(
            resource_type=resource_type, params=[(name, "5195-3")], accessor=accessor
        )
        return [row.logical_id for row in result.matches]

    has = "_has:Observation:performer:code"
    chain = "has-member:Observation.code"
    # BV-A may not see Minh's Observation: it makes nothing match, though what matches
    # (a Practitioner, Lan's panel) is visible to BV-A.
    assert found(Accessor(organization="BV-A"), "Practitioner", has) == []
    assert found(Accessor(organization="BV-A"), "Observation", chain) == []
    assert found(Accessor(organization="BV-B"), "Practitioner", has) == [doctor.logical_id]
    assert found(Accessor(organization="BV-B"), "Observation", chain) == [panel.logical_id]
    assert found(Accessor(person_id=lan.pk), "Observation", chain) == []
    assert found(Accessor(break_glass=True), "Practitioner", has) == [doctor.logical_id]


@pytest.mark.usefixtures("hospitals")
def test_a_merge_binds_the_survivors_consent_to_the_merged_records_and_an_unmerge_unbinds():
    from cityhealth.people import services as registry

    survivor = Person.objects.create(full_name="Lê Văn Hùng")
    retired = Person.objects.create(full_name="Le Van Hung")
    create_resource(body=consent(survivor, {"type": "deny", "actor": org("BV-A")}), source="test")
    assert not seen(Accessor(organization="BV-A"), survivor)
    assert seen(Accessor(organization="BV-A"), retired)  # another person, as yet
    merge = registry.merge_persons(survivor=survivor, retired=retired, reason="one", actor="t")
    # Records filed under the merged id are the same man's: his deny covers them.
    assert not seen(Accessor(organization="BV-A"), retired)
    assert seen(Accessor(organization="BV-B"), retired)
    registry.unmerge(merge=merge, actor="t", reason="two men")
    assert seen(Accessor(organization="BV-A"), retired)
    assert not seen(Accessor(organization="BV-A"), survivor)


@pytest.mark.usefixtures("hospitals")
def test_a_consent_given_under_a_merged_id_binds_the_whole_family():
    from cityhealth.people import services as registry

    survivor = Person.objects.create(full_name="Lê Văn Hùng")
    retired = Person.objects.create(full_name="Le Van Hung")
    registry.merge_persons(survivor=survivor, retired=retired, reason="one", actor="t")
    create_resource(body=consent(retired, {"type": "deny", "actor": org("BV-B")}), source="test")
    assert not seen(Accessor(organization="BV-B"), survivor)
    assert not seen(Accessor(organization="BV-B"), retired)
    assert seen(Accessor(organization="BV-A"), survivor)
