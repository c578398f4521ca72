"""The records generator on its own (no database): deterministic, valid FHIR, references that
resolve, and rates that match the parameters they come from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from cityhealth.records.validation import validate_resource
from cityhealth.synth.records.catalog import by_age, growth_at, load_catalog
from cityhealth.synth.records.directory import FacilityInfo, build_city, directory_resources
from cityhealth.synth.records.generator import PersonInput, RecordsGenerator, age_on

CATALOG = load_catalog()
AS_OF = CATALOG.as_of


def _facility(code: str, kind: str, ward: str = "00004", **extra: Any) -> FacilityInfo:
    fields: dict[str, Any] = {
        "code": code,
        "name": f"Cơ sở {code}",
        "name_en": "",
        "kind": kind,
        "specialty": "",
        "insurance_code": "",
        "ward_code": ward,
        "address": "",
        "latitude": None,
        "longitude": None,
        "parent_code": "",
    }
    return FacilityInfo(**{**fields, **extra})


CITY = build_city(
    [
        _facility(
            "BV-XANHPON", "general_hospital", insurance_code="01003", address="12 Chu Văn An"
        ),
        _facility("BV-DONGDA", "general_hospital", ward="00235", insurance_code="01004"),
        _facility("BV-BACHMAI", "central_hospital", ward="00229"),
        _facility("BV-NHI-HANOI", "specialist_hospital", specialty="paediatrics"),
        _facility("TYT-00004", "commune_health_station", latitude=21.03, longitude=105.83),
        _facility("TYT-00235", "commune_health_station", ward="00235"),
        _facility("115-00", "emergency_centre", parent_code=""),
    ],
    CATALOG,
)


def _generator(seed: int = 7, years: int = 5) -> RecordsGenerator:
    return RecordsGenerator(catalog=CATALOG, city=CITY, seed=seed, years=years)


def _persons(count: int, *, seed: int = 3, max_age: int = 90) -> list[PersonInput]:
    """Persons of every age (uniform), both sexes, in the two wards."""
    rng = random.Random(seed)
    persons = []
    for number in range(count):
        age_days = rng.randrange(max_age * 365)
        persons.append(
            PersonInput(
                person_id=1000 + number,
                birth_date=AS_OF - dt.timedelta(days=age_days + 1),
                sex=rng.choice(["male", "female"]),
                ward_code=rng.choice(["00004", "00235"]),
                primary_care=rng.choice(["01003", "01004", ""]),
            )
        )
    return persons


@pytest.fixture(scope="module")
def histories() -> dict[int, list[dict[str, Any]]]:
    generator = _generator()
    return {p.person_id: generator.person(p) for p in _persons(1500)}


def _persons_of(histories: dict[int, list[dict[str, Any]]]) -> Iterator[PersonInput]:
    yield from _persons(len(histories))


def test_the_same_seed_gives_the_same_resources_and_another_seed_others():
    persons = _persons(40)
    first = [_generator(seed=7).person(p) for p in persons]
    assert first == [_generator(seed=7).person(p) for p in persons]
    # A person's history does not depend on who else is generated, or in what order.
    assert _generator(seed=7).person(persons[17]) == first[17]
    other = [_generator(seed=8).person(p) for p in persons]
    assert other != first
    assert {r["id"] for h in other for r in h}.isdisjoint({r["id"] for h in first for r in h})


def test_every_resource_type_is_valid_fhir_r4(histories):
    samples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for history in histories.values():
        for resource in history:
            if len(samples[resource["resourceType"]]) < 150:
                samples[resource["resourceType"]].append(resource)
    for resource in directory_resources(CITY):
        samples[resource["resourceType"]].append(resource)
    assert set(samples) == {
        "Encounter", "Observation", "Condition", "Immunization", "MedicationRequest",
        "AllergyIntolerance", "Procedure", "DiagnosticReport",
        "Organization", "Location", "Practitioner", "PractitionerRole",
    }  # fmt: skip
    for resources in samples.values():
        for resource in resources:
            validate_resource(resource)  # raises InvalidResource with the element otherwise


def test_references_resolve_within_the_person_or_to_the_directory(histories):
    directory = {f"{r['resourceType']}/{r['id']}" for r in directory_resources(CITY)}

    def references(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "reference" and isinstance(child, str):
                    yield child
                else:
                    yield from references(child)
        elif isinstance(value, list):
            for child in value:
                yield from references(child)

    for person_id, history in list(histories.items())[:300]:
        own = {f"{r['resourceType']}/{r['id']}" for r in history}
        assert len(own) == len(history)  # ids are unique
        for resource in history:
            for target in references(resource):
                assert target in own or target in directory or target == f"Patient/{person_id}"


def test_the_volume_is_between_100_and_250_resources_per_person(histories):
    total = sum(len(h) for h in histories.values())
    assert 100 <= total / len(histories) <= 250
    counts = Counter(r["resourceType"] for h in histories.values() for r in h)
    assert counts["Observation"] > counts["Encounter"] > counts["Condition"]


def test_visits_per_person_year_are_near_the_published_two(histories):
    encounters = Counter(
        r["class"]["code"]
        for h in histories.values()
        for r in h
        if r["resourceType"] == "Encounter"
    )
    person_years = 5 * len(histories)
    # 2.1 insured visits per card a year (2017), chronic follow-ups and child visits added.
    assert 1.8 <= encounters["AMB"] / person_years <= 4.5
    # Inpatient: 15.3 M stays for ≈ 80 M cards (2017), ≈ 0.1–0.2 per person a year.
    assert 0.07 <= encounters["IMP"] / person_years <= 0.22
    assert 0.04 <= encounters["EMER"] / person_years <= 0.2


def _has_active(history: list[dict[str, Any]], code: str) -> bool:
    return any(
        r["resourceType"] == "Condition"
        and r["code"]["coding"][0]["code"] == code
        and r["clinicalStatus"]["coding"][0]["code"] == "active"
        for r in history
    )


def test_hypertension_prevalence_by_age_band_follows_the_parameters(histories):
    hypertension = next(c for c in CATALOG.chronic if c.code == "I10")
    bands = [(18, 40), (40, 60), (60, 90)]
    for low, high in bands:
        chosen = [p for p in _persons_of(histories) if low <= age_on(p.birth_date, AS_OF) < high]
        expected = sum(
            by_age(hypertension.prevalence, age_on(p.birth_date, AS_OF), p.sex) for p in chosen
        ) / len(chosen)
        seen = sum(_has_active(histories[p.person_id], "I10") for p in chosen) / len(chosen)
        assert abs(seen - expected) < max(0.035, 0.2 * expected), (low, high, seen, expected)
    young = [p for p in _persons_of(histories) if age_on(p.birth_date, AS_OF) < 18]
    assert not any(_has_active(histories[p.person_id], "I10") for p in young)


def _vaccine_doses(history: list[dict[str, Any]], code: str) -> int:
    return sum(
        1
        for r in history
        if r["resourceType"] == "Immunization" and r["vaccineCode"]["coding"][1]["code"] == code
    )


def test_immunisation_coverage_and_schedule_follow_the_programme():
    # Children born inside the window, aged 2 to 4 at its end: their whole infancy is seen.
    generator = _generator(seed=11)
    children = [
        p for p in _persons(1600, seed=5, max_age=5) if 2 <= age_on(p.birth_date, AS_OF) < 4.5
    ]
    histories = [generator.person(p) for p in children]
    three_doses = sum(_vaccine_doses(h, "DPT-VGB-Hib") == 3 for h in histories) / len(histories)
    bcg = sum(_vaccine_doses(h, "BCG") == 1 for h in histories) / len(histories)
    measles = sum(_vaccine_doses(h, "Soi") == 1 for h in histories) / len(histories)
    assert 0.89 <= three_doses <= 0.97  # 96% start the series, a few drop out
    assert 0.94 <= bcg <= 1.0
    assert 0.92 <= measles <= 0.98
    for child, history in zip(children, histories, strict=True):
        given_on: dict[str, list[dt.date]] = defaultdict(list)
        for resource in history:
            if resource["resourceType"] == "Immunization":
                vaccine = resource["vaccineCode"]["coding"][1]["code"]
                given_on[vaccine].append(
                    dt.datetime.fromisoformat(resource["occurrenceDateTime"]).date()
                )
        # The 5-in-1 and the oral polio vaccine are given together, four weeks apart or more.
        five_in_one, polio = sorted(given_on["DPT-VGB-Hib"]), sorted(given_on["OPV"])
        both = min(len(five_in_one), len(polio))
        assert five_in_one[:both] == polio[:both]
        assert all((b - a).days >= 28 for a, b in itertools.pairwise(five_in_one))
        for resource in history:
            if resource["resourceType"] != "Immunization":
                continue
            given = dt.datetime.fromisoformat(resource["occurrenceDateTime"]).date()
            if resource["vaccineCode"]["coding"][1]["code"] == "Soi":
                assert 270 <= (given - child.birth_date).days <= 400  # at 9 months
            if resource["vaccineCode"]["coding"][1]["code"] == "VGB-SS":
                assert given == child.birth_date  # the birth dose, within 24 hours


def test_child_growth_gives_the_published_stunting_and_underweight_shares():
    generator = _generator(seed=13)
    children = [p for p in _persons(1400, seed=9, max_age=5) if age_on(p.birth_date, AS_OF) >= 0.5]
    stunted = underweight = measured = 0
    for child in children:
        last: dict[str, tuple[dt.datetime, float]] = {}
        for r in generator.person(child):
            if r["resourceType"] != "Observation":
                continue
            code = r["code"]["coding"][0]["code"]
            if code in ("29463-7", "8302-2", "8306-3"):
                when = dt.datetime.fromisoformat(r["effectiveDateTime"])
                key = "weight" if code == "29463-7" else "height"
                if key not in last or when > last[key][0]:
                    last[key] = (when, r["valueQuantity"]["value"])
        if set(last) != {"weight", "height"}:
            continue
        months = age_on(child.birth_date, last["height"][0].date()) * 12
        if months >= 60:
            continue
        point = growth_at(CATALOG, child.sex, months)
        haz = (last["height"][1] / point.length - 1) / point.length_cv
        months = age_on(child.birth_date, last["weight"][0].date()) * 12
        point = growth_at(CATALOG, child.sex, months)
        waz = (last["weight"][1] / point.weight - 1) / point.weight_cv
        measured += 1
        stunted += haz < -2
        underweight += waz < -2
    assert measured > 1000
    assert abs(stunted / measured - 0.088) < 0.03  # Hà Nội 2024: 8.8%
    assert abs(underweight / measured - 0.048) < 0.025  # Hà Nội 2024: 4.8%


def test_blood_pressure_is_one_observation_with_two_components(histories):
    panels = [
        r
        for h in list(histories.values())[:200]
        for r in h
        if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "85354-9"
    ]
    assert panels
    for panel in panels:
        codes = [c["code"]["coding"][0]["code"] for c in panel["component"]]
        assert codes == ["8480-6", "8462-4"]
        systolic, diastolic = (c["valueQuantity"]["value"] for c in panel["component"])
        assert 40 <= diastolic < systolic <= 230
        assert panel["component"][0]["valueQuantity"]["code"] == "mm[Hg]"


def test_hypertensive_persons_have_higher_pressure_and_prescriptions(histories):
    def systolics(history: list[dict[str, Any]]) -> list[float]:
        return [
            r["component"][0]["valueQuantity"]["value"]
            for r in history
            if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "85354-9"
        ]

    adults = [
        h for p, h in zip(_persons_of(histories), histories.values(), strict=True)
        if age_on(p.birth_date, AS_OF) >= 50
    ]  # fmt: skip
    with_i10 = [s for h in adults if _has_active(h, "I10") for s in systolics(h)]
    without = [s for h in adults if not _has_active(h, "I10") for s in systolics(h)]
    assert sum(with_i10) / len(with_i10) > sum(without) / len(without) + 10
    treated = [
        h
        for h in adults
        if _has_active(h, "I10")
        and any(
            r["resourceType"] == "MedicationRequest"
            and r["medicationCodeableConcept"]["coding"][0]["code"] in ("C08CA01", "C09AA02")
            for r in h
        )
    ]
    assert len(treated) >= 0.8 * sum(_has_active(h, "I10") for h in adults)


def test_lab_reports_group_their_results_and_diagnoses_are_bilingual(histories):
    history = next(
        h for h in histories.values() if any(r["resourceType"] == "DiagnosticReport" for r in h)
    )
    by_id = {r["id"]: r for r in history}
    report = next(r for r in history if r["resourceType"] == "DiagnosticReport")
    for result in report["result"]:
        observation = by_id[result["reference"].split("/")[1]]
        assert observation["category"][0]["coding"][0]["code"] == "laboratory"
        assert observation["encounter"] == report["encounter"]
    condition = next(r for r in history if r["resourceType"] == "Condition")
    coding = condition["code"]["coding"][0]
    assert coding["system"] == "http://hl7.org/fhir/sid/icd-10"
    translation = coding["_display"]["extension"][0]["extension"]
    assert {"url": "lang", "valueCode": "en"} in translation


def test_nothing_happens_after_the_reference_date_or_before_birth(histories):
    end = dt.datetime.combine(AS_OF, dt.time(0), tzinfo=dt.timezone(dt.timedelta(hours=7)))
    for person in list(_persons_of(histories))[:500]:
        born = dt.datetime.combine(person.birth_date, dt.time(0), tzinfo=end.tzinfo)
        for r in histories[person.person_id]:
            when = (
                r.get("effectiveDateTime") or r.get("occurrenceDateTime") or r.get("onsetDateTime")
            )
            if when:
                assert born <= dt.datetime.fromisoformat(when) <= end + dt.timedelta(hours=4)
    unborn = dataclasses.replace(_persons(1)[0], birth_date=AS_OF + dt.timedelta(days=3))
    assert _generator().person(unborn) == []
