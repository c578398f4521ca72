"""The synthetic population: what `cityhealth synth population` loads, and its legacy file."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from cityhealth.core.identifiers import (
    bhyt_groups,
    check_consistency,
    former_provinces,
    parse_bhyt_code,
    parse_citizen_id,
)
from cityhealth.core.names import name_key
from cityhealth.facilities.models import Facility
from cityhealth.people.models import Guardianship, InsuranceCard, Person, PersonIdentifier
from cityhealth.synth.population.generator import PopulationGenerator
from cityhealth.synth.population.legacy import COLUMNS, NOISE_KINDS, NON_MATCH_KINDS
from cityhealth.synth.population.params import load_parameters
from cityhealth.synth.population.tables import load_tables

pytestmark = pytest.mark.django_db

PERSONS = 4000
SEED = 11
LEGACY = 500
COMMON_SURNAMES = {
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
}


@dataclass
class Loaded:
    output: str
    legacy: Path


def _run(*args: str) -> str:
    out = StringIO()
    call_command("synth", "population", *args, "--no-progress", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def population(hanoi_registry, django_db_blocker, tmp_path_factory):
    """One population for the module, loaded once and rolled back after it."""
    legacy = tmp_path_factory.mktemp("legacy") / "legacy.csv"
    with django_db_blocker.unblock(), transaction.atomic():
        output = _run(
            "--persons",
            str(PERSONS),
            "--seed",
            str(SEED),
            "--legacy-out",
            str(legacy),
            "--legacy-count",
            str(LEGACY),
        )
        yield Loaded(output=output, legacy=legacy)
        transaction.set_rollback(True)


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Person, PersonIdentifier, InsuranceCard, Guardianship))


def test_the_command_loads_once_and_then_does_nothing(population):
    assert f"Loaded {PERSONS:,} persons (seed {SEED})" in population.output
    assert f"Legacy records: {LEGACY + LEGACY // 10:,}" in population.output
    before = _counts()
    assert before[0] == PERSONS
    again = _run("--persons", str(PERSONS), "--seed", str(SEED))
    assert "already holds the population of seed 11" in again
    assert "nothing to do" in again
    assert _counts() == before


def test_another_population_is_refused(population):
    with pytest.raises(CommandError, match="another synthetic population"):
        _run("--persons", "100", "--seed", str(SEED + 1))


def test_same_seed_same_rows_and_the_loader_writes_them_all(population):
    tables = load_tables(load_parameters())

    def rows(seed: int) -> list[list[object]]:
        generator = PopulationGenerator(tables, persons=PERSONS, seed=seed)
        out: list[list[object]] = []
        for chunk in generator.chunks():
            for batch in chunk.batches:
                out.append([batch.table, *batch.rows()])
        return out

    first = rows(SEED)
    assert first == rows(SEED)
    assert first != rows(SEED + 1)
    people: list[tuple[object, ...]] = first[0][1:]  # type: ignore[assignment]
    loaded = list(
        Person.objects.order_by("id").values_list("full_name", "birth_date", "sex", "ward_id")
    )
    assert loaded == [(p[1], dt.date.fromisoformat(str(p[3])), p[6], p[8]) for p in people]


def test_citizen_ids_parse_agree_with_the_person_and_are_unique(population):
    values = list(PersonIdentifier.objects.values_list("kind", "value"))
    assert len(values) == len(set(values))
    active = PersonIdentifier.objects.filter(kind="citizen_id", status="active").select_related(
        "person"
    )
    provinces: Counter[str] = Counter()
    for identifier in active:
        parsed = parse_citizen_id(identifier.value)
        person = identifier.person
        assert parsed.province_name is not None
        assert parsed.birth_year == person.birth_year
        assert parsed.sex == person.sex
        assert check_consistency(parsed, sex=person.sex) == []
        provinces[identifier.value[:3]] += 1
    assert set(provinces) <= set(former_provinces())
    # Almost everyone has a number (newborns of under a month may not yet).
    assert PERSONS - 20 <= sum(provinces.values()) <= PERSONS
    assert 0.70 <= provinces["001"] / sum(provinces.values()) <= 0.90
    assert len(provinces) > 20
    # Re-issues: the cancelled number differs from the active one in year, sex or province.
    cancelled = PersonIdentifier.objects.filter(kind="citizen_id", status="cancelled")
    for old in cancelled:
        new = PersonIdentifier.objects.get(person=old.person, kind="citizen_id", status="active")
        assert parse_citizen_id(old.value)
        assert old.valid_to is not None
        assert old.valid_to == new.valid_from
        assert old.value[:6] != new.value[:6]
    old_ids = PersonIdentifier.objects.filter(kind="old_id").select_related("person")
    assert old_ids.count() > PERSONS // 5
    for old in old_ids:
        assert len(old.value) == 9
        assert old.value.isdigit()
        assert (old.person.birth_year or 0) < 2000
        assert old.status == "cancelled"


def test_names_look_vietnamese(population):
    people = list(Person.objects.values_list("full_name", "search_text", "sex"))
    families = Counter(name.split()[0] for name, _, _ in people)
    assert 0.30 <= families["Nguyễn"] / len(people) <= 0.40
    common = sum(families[s] for s in COMMON_SURNAMES) / len(people)
    assert 0.84 <= common <= 0.93
    assert len(families) > 30
    tokens = Counter(len(name.split()) for name, _, _ in people)
    assert tokens[3] / len(people) > 0.7
    assert 0.08 <= tokens[4] / len(people) <= 0.25
    assert 0 < tokens[2] / len(people) <= 0.04
    for name, key, sex in people:
        assert key == name_key(name)
        middles = name.split()[1:-1]
        assert not ("Thị" in middles and sex == "male")
        assert not ("Văn" in middles and sex == "female")
    thi = sum(1 for n, _, s in people if s == "female" and "Thị" in n.split()[1:-1])
    assert thi > len(people) * 0.1


def test_age_and_sex_structure(population):
    as_of = load_parameters().as_of
    people = list(Person.objects.values_list("birth_date", "birth_date_precision", "sex"))
    sexes = Counter(sex for _, _, sex in people)
    assert 0.93 <= sexes["male"] / sexes["female"] <= 1.04
    ages = [_age(born, as_of) for born, _, _ in people if born]
    assert len(ages) == len(people)
    assert 0.19 <= sum(a < 15 for a in ages) / len(ages) <= 0.27
    assert 0.10 <= sum(a >= 60 for a in ages) / len(ages) <= 0.18
    assert max(ages) <= 100
    year_only = [
        a for a, (_, precision, _) in zip(ages, people, strict=True) if precision == "year"
    ]
    assert year_only
    assert min(year_only) >= 59  # a 1 January date can make one look a year older


def test_insurance_cards(population):
    as_of = load_parameters().as_of
    groups = bhyt_groups()
    registered = set(
        Facility.objects.exclude(insurance_code="").values_list("insurance_code", flat=True)
    )
    cards = list(InsuranceCard.objects.select_related("person"))
    assert 0.91 <= len(cards) / PERSONS <= 0.95
    numbers = [c.social_insurance_number for c in cards]
    assert len(numbers) == len(set(numbers))
    assert len({c.person_id for c in cards}) == len(cards)
    for card in cards:
        parsed = parse_bhyt_code(card.code)
        assert parsed.warnings == ()
        assert parsed.province_code == "01"
        assert parsed.social_insurance_number == card.social_insurance_number
        assert parsed.group is not None
        assert card.group == parsed.group.code
        assert card.benefit_level == groups[card.group].level
        assert card.primary_care_facility in registered
        assert card.valid_from is not None
        assert card.valid_to is not None
        assert card.valid_from <= as_of <= card.valid_to
        person = card.person
        assert person.birth_date is not None
        age = _age(person.birth_date, as_of)
        if person.birth_date_precision == "year":
            continue
        retirement = 61 if person.sex == "male" else 57
        expected = {
            "TE": age < 6,
            "HS": 6 <= age <= 17,
            "SV": 18 <= age <= 22,
            "HT": age >= retirement,
            "DN": age >= 18,
            "HC": age >= 18,
            "BT": age >= 57,
        }
        assert expected.get(card.group, True), (card.group, age)
    kinds = Counter(c.group for c in cards)
    for group in ("TE", "HS", "SV", "DN", "HC", "GD", "HT"):
        assert kinds[group] > 0


def test_children_have_guardians_in_their_ward(population):
    as_of = load_parameters().as_of
    children = {
        p.id: p for p in Person.objects.filter(birth_date__gt=dt.date(as_of.year - 14, 1, 1))
    }
    links = Guardianship.objects.select_related("child", "guardian")
    guarded = set()
    for link in links:
        child, guardian = link.child, link.guardian
        assert child.ward_id == guardian.ward_id
        assert guardian.birth_year is not None
        assert child.birth_year is not None
        assert guardian.birth_year - child.birth_year <= -18
        assert (link.relationship, guardian.sex) in {("mother", "female"), ("father", "male")}
        if link.relationship == "father":
            assert child.full_name.split()[0] == guardian.full_name.split()[0]
        guarded.add(child.id)
    under_14 = {i for i, p in children.items() if p.birth_date and _age(p.birth_date, as_of) < 14}
    assert under_14
    assert under_14 <= guarded
    fathers = sum(1 for link in links if link.relationship == "father")
    assert fathers > 0.7 * len(under_14)


def test_phones_for_most_adults(population):
    as_of = load_parameters().as_of
    adults = Person.objects.filter(birth_date__lt=dt.date(as_of.year - 18, 1, 1))
    phones = list(adults.values_list("phone", flat=True))
    with_phone = [p for p in phones if p]
    assert len(with_phone) / len(phones) > 0.75
    for phone in with_phone:
        assert len(phone) == 10
        assert phone.isdigit()
        assert phone[:2] in {"03", "05", "07", "08", "09"}
    assert not Person.objects.filter(birth_date__gt=as_of.replace(year=as_of.year - 14)).exclude(
        phone=""
    )


def test_legacy_records_carry_noise_and_the_truth(population):
    with population.legacy.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        records = list(reader)
    assert len(records) == LEGACY + LEGACY // 10
    truth = [r for r in records if r["true_person_id"]]
    assert len(truth) == LEGACY
    assert len({r["source_record_id"] for r in records}) == len(records)
    kinds = Counter(k for r in records for k in r["noise"].split(";") if k)
    for kind in (*NOISE_KINDS, *NON_MATCH_KINDS):
        assert kinds[kind] > 0, kind
    assert kinds["citizen_id_missing"] > 0.7 * LEGACY
    non_matches = [r for r in records if not r["true_person_id"]]
    assert all(r["noise"].startswith("non_match_") for r in non_matches)
    people = Person.objects.in_bulk([int(r["true_person_id"]) for r in truth])
    name_noise = {"typo_swap", "typo_drop", "surname_variant", "name_order"}
    for record in truth:
        person = people[int(record["true_person_id"])]
        noise = set(record["noise"].split(";"))
        if not noise & name_noise:
            assert name_key(record["full_name"]) == person.search_text
        if record["birth_date"] and not noise & {"day_month_swap"}:
            assert person.birth_date is not None
            assert record["birth_date"] == person.birth_date.isoformat()
        if "ward_changed" not in noise:
            assert record["ward_code"] == person.ward_id
        assert int(record["birth_year"]) == person.birth_year
        if record["citizen_id"] and "citizen_id_typo" not in noise:
            assert PersonIdentifier.objects.filter(
                person=person, kind="citizen_id", value=record["citizen_id"]
            ).exists()


def test_postgres_rebuild_mode_restores_indexes_and_constraints(population):
    if connection.vendor != "postgresql":
        pytest.skip("index rebuilding is PostgreSQL only")

    def definitions() -> set[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'people_%%'"
            )
            indexes = set(cursor.fetchall())
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text LIKE 'people_%%'"
            )
            return indexes | set(cursor.fetchall())

    before = definitions()
    for model in (Guardianship, InsuranceCard, PersonIdentifier, Person):
        model.objects.all().delete()
    output = _run("--persons", "1500", "--seed", "3", "--indexes", "rebuild")
    assert "indexes: rebuild" in output
    assert definitions() == before
    assert Person.objects.count() == 1500
