"""The matcher's pieces without a database: features, comparison levels, EM, the model file."""

from __future__ import annotations

import datetime as dt

import numpy as np

from cityhealth.people.enums import DatePrecision
from cityhealth.people.matching import IncomingRecord, MatchModel, default_model
from cityhealth.people.matching.blocking import blocking_keys
from cityhealth.people.matching.comparisons import COMPARISONS, INDEX, compare
from cityhealth.people.matching.features import (
    PersonRow,
    address_detail_key,
    address_key,
    name_features,
    normalise_phone,
    person_columns,
    record_columns,
)
from cityhealth.people.matching.training import block_pairs, run_em


def row(pid: int, name: str, born: dt.date | None, **fields: object) -> PersonRow:
    from cityhealth.core.names import name_key

    values: dict[str, object] = {
        "id": pid,
        "full_name": name,
        "search_text": name_key(name),
        "birth_date": born,
        "birth_year": born.year if born else fields.pop("year", None),
        "birth_date_precision": "day" if born else "year",
        "sex": "male",
        "ward_code": "00004",
        "phone": "",
        "address": "",
    }
    values.update(fields)
    return PersonRow(**values)  # type: ignore[arg-type]


def levels_of(record: IncomingRecord, person: PersonRow) -> dict[str, str]:
    left, right = record_columns([record]), person_columns([person])
    pairs = compare(left, np.array([0]), right, np.array([0]))
    return {
        spec.name: spec.levels[level] if (level := int(pairs.levels[0, c])) >= 0 else "-"
        for c, spec in enumerate(COMPARISONS)
    }


def test_phone_and_address_normalisation() -> None:
    assert normalise_phone("+84 912 345 678") == "0912345678"
    assert normalise_phone("01689 123 456") == "0389123456"  # pre-2018 Viettel number
    assert normalise_phone("12") == ""
    assert address_key("Số 12, ngõ 34/5 phố Xã Đàn, P. Kim Liên, Hà Nội") == "12 34 5 dan kim lien"


def test_address_is_compared_below_the_ward() -> None:
    # The ward is a comparison of its own: inside the address it would count twice.
    assert address_detail_key("Thôn 11, Xã Đại Thanh, Hà Nội") == "11"
    assert address_detail_key("Số 12, ngõ 34/5 phố Xã Đàn, P. Kim Liên, Quận Đống Đa") == (
        "12 34 5 dan"
    )
    assert address_detail_key("Tổ 3, Thị trấn Đông Anh, Thành phố Hà Nội") == "3"
    assert address_detail_key("Phường Ba Đình") == ""
    assert address_detail_key("") == ""


def test_name_features_leave_out_sex_markers_and_map_variants() -> None:
    features = name_features("Võ Thị Minh Ánh")
    assert features.key == "vu minh anh"
    assert features.acc == "võ minh ánh"
    assert (features.family, features.given) == ("vu", "anh")
    assert name_features("Lê Thị").key == "le thi"  # a final "Thị" is a given name


def test_name_and_date_levels() -> None:
    person = row(1, "Nguyễn Văn Hùng", dt.date(1980, 3, 11), phone="0912345678")
    base = IncomingRecord(full_name="Nguyễn Văn Hùng", birth_date=dt.date(1980, 3, 11))
    assert levels_of(base, person)["name"] == "exact_accented"
    assert levels_of(base, person)["given"] == "-"  # implied by the name
    cases = {
        "NGUYEN VAN HUNG": "exact_folded",
        "Hùng Nguyễn Văn": "swapped",
        "Nguyễn Hùng": "exact_accented",  # "Văn" says only the sex
        "Nguyễn Đức Hùng": "family_given",
        "Nguyễn Văn Hừng": "exact_folded",
        "Nguyễn Văn Hugn": "jw_high",
        "Trần Thị Lan": "else",
    }
    for name, level in cases.items():
        assert levels_of(IncomingRecord(full_name=name), person)["name"] == level, name
    assert levels_of(IncomingRecord(full_name="Trần Văn Hùng"), person)["given"] == "exact"
    dates = {
        dt.date(1980, 11, 3): "day_month_swapped",
        dt.date(1980, 3, 20): "same_month",
        dt.date(1981, 3, 11): "year_typo",
        dt.date(1980, 7, 1): "same_year",
        dt.date(1979, 7, 1): "else",
    }
    for born, level in dates.items():
        record = IncomingRecord(full_name="x", birth_date=born)
        assert levels_of(record, person)["dob"] == level, born
    year_only = IncomingRecord(
        full_name="x", birth_year=1980, birth_date_precision=DatePrecision.YEAR
    )
    assert levels_of(year_only, person)["dob"] == "year_only"
    phones = {"0912345678": "exact", "0912345679": "one_edit", "0987000000": "else", "": "-"}
    for phone, level in phones.items():
        assert levels_of(IncomingRecord(full_name="x", phone=phone), person)["phone"] == level


def test_blocking_keys_cover_reordered_names_and_swapped_dates() -> None:
    keys = blocking_keys(
        IncomingRecord(full_name="Hung Nguyen", birth_date=dt.date(1980, 3, 11), sex="male")
    )
    assert "nguyen hung" in keys.name_keys
    assert "nguyen van hung" in keys.name_keys  # the marker a clerk left out
    assert keys.dates == (dt.date(1980, 3, 11), dt.date(1980, 11, 3))
    assert keys.words == ("% nguyen %", "", " hung %")  # western order: "Nguyen" read as given


def test_block_pairs_and_em_on_a_clear_mixture() -> None:
    left = np.array([1, 2, 2, -1, 3])
    right = np.array([2, 3, 2, 9])
    li, rj = block_pairs(left, right, dedupe=False, limit=100, rng=np.random.default_rng(0))
    assert sorted(zip(li.tolist(), rj.tolist(), strict=True)) == [
        (1, 0),
        (1, 2),
        (2, 0),
        (2, 2),
        (4, 1),
    ]

    # 200 matches agreeing on everything, 2000 non-matches agreeing by chance.
    rng = np.random.default_rng(1)
    model = default_model()
    n_match, n_non = 200, 2000
    levels = np.full((n_match + n_non, len(COMPARISONS)), -1, dtype=np.int8)
    dob, sex = INDEX["dob"], INDEX["sex"]
    levels[:n_match, dob] = 6
    levels[:n_match, sex] = 1
    levels[n_match:, dob] = rng.choice([0, 1], n_non, p=[0.99, 0.01])
    levels[n_match:, sex] = rng.choice([0, 1], n_non)
    u = {spec.name: model.comparisons[spec.name].u for spec in COMPARISONS}
    m = {spec.name: model.comparisons[spec.name].m for spec in COMPARISONS}
    result = run_em(levels, m_start=m, u=u, learn=["dob", "sex"])
    assert result.converged
    assert abs(result.expected_matches - n_match) < 5
    assert result.m["dob"][6] > 0.9
    assert result.m["sex"][1] > 0.95


def test_default_model_is_a_prior_and_round_trips() -> None:
    model = default_model()
    assert not model.learned
    data = model.to_json()
    assert data["note"].startswith("PRIOR")
    assert MatchModel.from_json(data) == model
