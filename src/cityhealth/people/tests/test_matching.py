"""The matcher end to end: exact identifiers, guardian key, learned Fellegi–Sunter, outcomes."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from cityhealth.core.text import fold_for_search
from cityhealth.people.enums import (
    DatePrecision,
    IdentifierKind,
    IdentifierStatus,
    MatchOutcome,
    Relationship,
    Sex,
)
from cityhealth.people.matching import (
    IncomingRecord,
    MatchModel,
    PersonRow,
    choose_link_threshold,
    current_model,
    default_model,
    evaluate,
    load_model,
    match_record,
    match_records,
    save_model,
    train_model,
)
from cityhealth.people.matching.blocking import sample_persons
from cityhealth.people.matching.features import fast_fold
from cityhealth.people.models import Guardianship, InsuranceCard, Person, PersonIdentifier
from cityhealth.people.tests.test_matching_factory import (
    Population,
    build_population,
    noisy_records,
    save_person,
    strip_diacritics,
)

POPULATION = 400


def analyze_persons() -> None:
    """PostgreSQL: statistics for the rows just loaded (ANALYZE sees this transaction's own
    rows). Without them the planner takes the candidate lookups for an empty table and picks
    plans that make each batch take seconds (≈ 45 s of this module's time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Person._meta.db_table}")


@dataclass
class World:
    population: Population
    model: MatchModel
    records: list[IncomingRecord]
    truth: list[int | None]
    train_seconds: float


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """A population, noisy records of it, and a model trained on them; rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        population = build_population(POPULATION)
        rng = random.Random(11)
        records, truth = noisy_records(population, rng, copies=300, strangers=60)
        analyze_persons()
        started = time.perf_counter()
        model = train_model(persons_sample=sample_persons(10_000), records=records, seed=3)
        yield World(population, model, records, truth, time.perf_counter() - started)
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def person(**fields: Any) -> Person:
    fields.setdefault("sex", Sex.MALE)
    fields.setdefault("birth_year", fields["birth_date"].year if fields.get("birth_date") else None)
    return save_person(**fields)


# --- features --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Nguyễn Thị Minh Ánh", "ĐẶNG VĂN ĐỨC", "Huỳnh Thị Thu Hường", "Lê Quý Đôn", "Ưng Hoàng Phúc"],
)
def test_fast_fold_agrees_with_the_shared_fold(text: str) -> None:
    assert fast_fold(text) == fold_for_search(text)


# --- tier 1: identifiers ----------------------------------------------------------------------


def test_citizen_id_links_exactly(world: World) -> None:
    entry = world.population.persons[0]
    record = IncomingRecord(full_name=entry.person.full_name, citizen_id=entry.citizen_id)
    result = match_record(record=record, model=world.model)
    assert result.outcome == MatchOutcome.LINK
    assert result.person_id == entry.person.pk
    assert result.method == "citizen_id"
    assert result.candidates[0].match_probability == 1.0


def test_cancelled_number_and_merged_person_resolve_to_the_survivor(world: World) -> None:
    survivor = person(full_name="Trần Văn Khải", birth_date=dt.date(1980, 3, 4))
    retired = person(
        full_name="Trần Văn Khải", birth_date=dt.date(1980, 3, 4), merged_into=survivor
    )
    PersonIdentifier.objects.create(
        person=retired,
        kind=IdentifierKind.CITIZEN_ID,
        value="001080123456",
        status=IdentifierStatus.CANCELLED,
    )
    record = IncomingRecord(full_name="Tran Van Khai", citizen_id="001 080 123 456")
    result = match_record(record=record, model=world.model)
    assert (result.outcome, result.person_id) == (MatchOutcome.LINK, survivor.pk)


def test_insurance_number_and_passport(world: World) -> None:
    holder = person(full_name="Phạm Thị Hoa", birth_date=dt.date(1975, 6, 1), sex=Sex.FEMALE)
    InsuranceCard.objects.create(
        person=holder, code="GD4010123456789", social_insurance_number="0123456789"
    )
    by_card = match_record(
        record=IncomingRecord(full_name="Pham Thi Hoa", social_insurance_number="GD4010123456789"),
        model=world.model,
    )
    assert (by_card.outcome, by_card.person_id) == (MatchOutcome.LINK, holder.pk)
    assert by_card.method == "social_insurance"

    visitor = person(full_name="John Smith", birth_date=dt.date(1970, 1, 2), nationality="GB")
    PersonIdentifier.objects.create(
        person=visitor, kind=IdentifierKind.PASSPORT, value="123456789", issuer="GB"
    )
    record = IncomingRecord(full_name="SMITH JOHN", passport="123 456 789", nationality="GB")
    assert match_record(record=record, model=world.model).person_id == visitor.pk
    elsewhere = replace(record, nationality="FR")
    assert match_record(record=elsewhere, model=world.model).method == "probabilistic"


def test_identifier_of_someone_else_goes_to_review(world: World) -> None:
    entry = world.population.persons[1]
    other = world.population.persons[2].person
    record = IncomingRecord(
        full_name="Kiều Thị Mỹ Dung",
        birth_date=dt.date(1933, 12, 30),
        sex=Sex.FEMALE if entry.person.sex == Sex.MALE else Sex.MALE,
        citizen_id=entry.citizen_id,
    )
    result = match_record(record=record, model=world.model)
    assert result.outcome == MatchOutcome.REVIEW
    assert "demographics_disagree" in result.candidates[0].reasons

    both = IncomingRecord(
        full_name=other.full_name,
        citizen_id=entry.citizen_id,
        social_insurance_number="9999999999",
    )
    InsuranceCard.objects.create(person=other, social_insurance_number="9999999999")
    conflict = match_record(record=both, model=world.model)
    assert conflict.outcome == MatchOutcome.REVIEW
    assert conflict.method == "identifier_conflict"
    assert {c.person_id for c in conflict.candidates} == {entry.person.pk, other.pk}


def _family(world: World) -> tuple[Person, Person, Person, Person]:
    mother = person(full_name="Lê Thị Thu", birth_date=dt.date(1990, 2, 3), sex=Sex.FEMALE)
    PersonIdentifier.objects.create(
        person=mother, kind=IdentifierKind.CITIZEN_ID, value="001190000111"
    )
    born = dt.date(2021, 7, 9)
    twin_boy = person(full_name="Đỗ Minh Khang", birth_date=born, sex=Sex.MALE)
    twin_girl = person(full_name="Đỗ Minh Khuê", birth_date=born, sex=Sex.FEMALE)
    twin_girl2 = person(full_name="Đỗ Ngọc Khánh", birth_date=born, sex=Sex.FEMALE)
    elder = person(full_name="Đỗ Minh Quân", birth_date=dt.date(2016, 1, 5), sex=Sex.MALE)
    for child in (twin_boy, twin_girl, twin_girl2, elder):
        Guardianship.objects.create(child=child, guardian=mother, relationship=Relationship.MOTHER)
    return twin_boy, twin_girl, twin_girl2, elder


def test_guardian_key_finds_the_child_and_tells_twins_apart(world: World) -> None:
    twin_boy, twin_girl, twin_girl2, elder = _family(world)
    key: dict[str, Any] = {
        "guardian_citizen_id": "001190000111",
        "birth_date": dt.date(2021, 7, 9),
    }

    boy = match_record(record=IncomingRecord(full_name="Bé", sex="male", **key), model=world.model)
    assert (boy.outcome, boy.person_id, boy.method) == (
        MatchOutcome.LINK,
        twin_boy.pk,
        "guardian_key",
    )
    # Two girls born that day: the name decides ...
    khue = match_record(
        record=IncomingRecord(full_name="Do Minh Khue", sex="female", **key), model=world.model
    )
    assert (khue.outcome, khue.person_id) == (MatchOutcome.LINK, twin_girl.pk)
    # ... and without a telling name the twins go to review.
    nameless = match_record(
        record=IncomingRecord(full_name="", sex="female", **key), model=world.model
    )
    assert nameless.outcome == MatchOutcome.REVIEW
    assert {c.person_id for c in nameless.candidates} == {twin_girl.pk, twin_girl2.pk}
    older = match_record(
        record=IncomingRecord(
            full_name="Đỗ Minh Quân",
            guardian_citizen_id="001190000111",
            birth_date=dt.date(2016, 1, 5),
        ),
        model=world.model,
    )
    assert older.person_id == elder.pk


# --- tier 2: outcomes -------------------------------------------------------------------------


def test_three_outcomes_on_clear_cases(world: World) -> None:
    target = person(
        full_name="Hoàng Văn Thái",
        birth_date=dt.date(1968, 10, 21),
        ward_id="00008",
        phone="0912000111",
        address="Số 5 ngõ 7 phố Kim Mã",
    )
    exact = IncomingRecord(
        full_name="Hoàng Văn Thái",
        birth_date=dt.date(1968, 10, 21),
        sex="male",
        ward_code="00008",
        phone="0912000111",
    )
    linked = match_record(record=exact, model=world.model)
    assert (linked.outcome, linked.person_id) == (MatchOutcome.LINK, target.pk)
    assert linked.candidates[0].match_probability >= world.model.link_threshold
    assert any(r.startswith("name=exact_accented") for r in linked.candidates[0].reasons)

    noisy = IncomingRecord(full_name="Thai Huynh Van", birth_date=dt.date(1968, 10, 21), sex="male")
    assert match_record(record=noisy, model=world.model).person_id == target.pk

    unknown = IncomingRecord(
        full_name="Tạ Quang Bửu", birth_date=dt.date(1911, 7, 23), sex="male", ward_code="00043"
    )
    assert match_record(record=unknown, model=world.model).outcome == MatchOutcome.NEW

    # Two namesakes born the same year, and a record that knows only the name and the year.
    for day in (dt.date(1951, 2, 2), dt.date(1951, 9, 30)):
        person(full_name="Đinh Công Tráng", birth_date=day, ward_id="00016")
    vague = IncomingRecord(
        full_name="Đinh Công Tráng",
        birth_year=1951,
        birth_date_precision=DatePrecision.YEAR,
        sex="male",
    )
    review = match_record(record=vague, model=world.model)
    assert review.outcome == MatchOutcome.REVIEW
    assert len(review.candidates) >= 2
    assert review.candidates[0].match_weight >= review.candidates[-1].match_weight


def test_twins_without_a_telling_field_go_to_review(world: World) -> None:
    common = {
        "birth_date": dt.date(2012, 4, 17),
        "ward_id": "00025",
        "phone": "0987654321",
        "address": "Số 9 ngõ 2 phố Tây Sơn",
    }
    a = person(full_name="Vũ Đức Anh", sex=Sex.MALE, **common)
    b = person(full_name="Vũ Đức Minh", sex=Sex.MALE, **common)
    record = IncomingRecord(  # a child's record with the name left blank
        full_name="",
        birth_date=dt.date(2012, 4, 17),
        sex="male",
        ward_code="00025",
        phone="0987654321",
    )
    result = match_record(record=record, model=world.model)
    assert result.outcome == MatchOutcome.REVIEW
    assert {c.person_id for c in result.candidates[:2]} == {a.pk, b.pk}


# --- learning ---------------------------------------------------------------------------------


def test_em_learns_sensible_m_and_u(world: World) -> None:
    model = world.model
    assert model.learned
    sessions = model.info["em_sessions"]
    assert {s["blocking"] for s in sessions} == {"name_key", "birth_date"}
    assert all(s["converged"] for s in sessions)
    for name, level in [("name", -1), ("name", -2), ("dob", -1), ("ward", -1), ("sex", -1)]:
        params = model.comparisons[name]
        assert params.m_source == "em"
        assert params.u_source == "random_pairs"
        assert params.m[level] > params.u[level], (name, level)
    names = model.comparisons["name"]
    assert names.m[0] < names.u[0]  # names that differ are evidence against
    dob = model.comparisons["dob"]
    assert dob.m[-1] > 0.5  # most records keep the date of birth
    assert dob.m[-2] > dob.u[-2]  # day and month swapped still points to the person


def test_term_frequency_weakens_common_surnames(world: World) -> None:
    for model in (world.model, default_model()):
        assert model.tf_family.bits("nguyen") < 0 < model.tf_family.bits("kieu")
    common = person(full_name="Nguyễn Hữu Vĩnh", birth_date=dt.date(1955, 5, 5))
    rare = person(full_name="Kiều Hữu Vĩnh", birth_date=dt.date(1955, 5, 5))
    weights = {}
    for p in (common, rare):
        record = IncomingRecord(full_name=p.full_name, birth_year=1955, sex="male")
        result = match_record(record=record, model=world.model)
        weights[p.pk] = next(c.match_weight for c in result.candidates if c.person_id == p.pk)
    assert weights[common.pk] < weights[rare.pk]


def test_precision_and_recall_on_noisy_records(world: World) -> None:
    results = match_records(world.records, model=world.model)
    report = evaluate(results, world.truth)
    print(report)
    assert report.precision >= 0.99
    assert report.recall >= 0.9
    assert report.correct_new >= 0.9 * (report.records - report.with_person)
    # Whatever is not linked mostly goes to review with the true person listed.
    found = report.correct_links + report.reviews_with_truth_listed
    assert found >= 0.97 * report.with_person


def test_threshold_choice_and_json_round_trip(world: World, tmp_path: Any, settings: Any) -> None:
    results = match_records(world.records, model=world.model)
    link = choose_link_threshold(results, world.truth, precision_target=0.995)
    assert 0.5 <= link <= 0.9999
    path = save_model(world.model.with_thresholds(link=link, review=0.4), tmp_path / "m.json")
    data = json.loads(path.read_text())
    assert data["learned"] is True
    assert data["thresholds"] == {"link": link, "review": 0.4}
    assert data["term_frequencies"]["family"]["freq"]["nguyen"] > 0.2
    loaded = load_model(path)
    assert loaded.comparisons == world.model.comparisons

    settings.CITYHEALTH_MATCHER_PATH = str(tmp_path / "absent.json")
    assert current_model().learned is False  # the shipped prior
    settings.CITYHEALTH_MATCHER_PATH = str(path)
    assert current_model().link_threshold == link


def test_train_matcher_command(world: World, tmp_path: Any) -> None:
    records = tmp_path / "records.jsonl"
    lines = []
    for record, true_id in zip(world.records[:200], world.truth[:200], strict=True):
        row = {k: v for k, v in record.__dict__.items() if v not in ("", None)}
        if record.birth_date:
            row["birth_date"] = record.birth_date.isoformat()
        row["true_person_id"] = true_id
        lines.append(json.dumps(row, ensure_ascii=False))
    records.write_text("\n".join(lines))
    out = tmp_path / "matcher.json"
    call_command("train_matcher", "--sample", "300", "--records", str(records), "--out", str(out))
    model = load_model(out)
    assert model.learned
    assert model.info["records"] == 200
    assert model.comparisons["dob"].m_source == "em"


def test_batch_of_person_rows_without_database() -> None:
    rows = [
        PersonRow(1, "Nguyễn Văn An", "nguyen van an", dt.date(1990, 1, 2), 1990, "day", "male",
                  "00004", "0912345678", "Số 1 phố Huế"),
        PersonRow(2, "Trần Thị Bình", "tran thi binh", None, 1950, "year", "female", "", "", ""),
    ]  # fmt: skip
    model = train_model(persons_sample=rows)
    assert model.learned
    assert model.comparisons["name"].m_source == "prior"  # no duplicates: m stays the prior


def test_diacritics_and_order_do_not_hide_a_person(world: World) -> None:
    entry = world.population.persons[5].person
    record = IncomingRecord(
        full_name=strip_diacritics(" ".join(reversed(entry.full_name.split()))),
        birth_date=entry.birth_date,
        birth_year=entry.birth_year,
        birth_date_precision=DatePrecision(entry.birth_date_precision),
        sex=entry.sex,
        ward_code=entry.ward_id or "",
    )
    result = match_record(record=record, model=world.model)
    assert result.candidates[0].person_id == entry.pk
