from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.identifiers import (
    CitizenId,
    Sex,
    century_sex_digit,
    check_consistency,
    former_provinces,
    parse_citizen_id,
)

NOON_2026 = dt.datetime(2026, 6, 1, 5, 0, tzinfo=dt.UTC)
PROPERTY = settings(max_examples=300, deadline=None)


def _code_of(text: object) -> str:
    with pytest.raises(InvalidInput) as info:
        parse_citizen_id(text)  # type: ignore[arg-type]
    assert info.value.field == "citizen_id"
    assert info.value.message_vi
    assert info.value.message_en
    return info.value.code


def test_reads_the_worked_example():
    parsed = parse_citizen_id("001195012345")
    assert parsed == CitizenId(
        number="001195012345",
        id_province_code="001",
        province_name="Hà Nội",
        province_code_2025="01",
        province_name_2025="Thành phố Hà Nội",
        sex=Sex.FEMALE,
        birth_year=1995,
    )
    assert parsed.sex == "female"
    assert str(parsed) == "001195012345"


@pytest.mark.parametrize(
    ("number", "sex", "year"),
    [
        ("079080000001", Sex.MALE, 1980),
        ("079180000001", Sex.FEMALE, 1980),
        ("001200000001", Sex.MALE, 2000),
        ("001324000001", Sex.FEMALE, 2024),
        ("001000999999", Sex.MALE, 1900),
        ("001199999999", Sex.FEMALE, 1999),
    ],
)
def test_century_digit_gives_sex_and_exact_year(number, sex, year):
    parsed = parse_citizen_id(number)
    assert (parsed.sex, parsed.birth_year) == (sex, year)


def test_maps_a_former_province_to_its_2025_province():
    parsed = parse_citizen_id("026090000123")  # Vĩnh Phúc, merged into Phú Thọ
    assert parsed.province_name == "Vĩnh Phúc"
    assert (parsed.province_code_2025, parsed.province_name_2025) == ("25", "Phú Thọ")


def test_strips_surrounding_whitespace_only():
    assert parse_citizen_id("  001195012345\t\n").number == "001195012345"
    assert _code_of("001195 012345") == "citizen_id.not_12_digits"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "00119501234",  # 11 digits
        "0011950123456",  # 13 digits
        "00119501234a",
        "OO1195012345",  # letter O for zero
        "٠٠١١٩٥٠١٢٣٤٥",  # Arabic-Indic digits
        "００１１９５０１２３４５",  # full-width digits
        "001-195-012345",
        "+01195012345",
        1195012345,  # an int has lost its leading zeros
        None,
    ],
)
def test_rejects_what_is_not_twelve_ascii_digits(text):
    assert _code_of(text) == "citizen_id.not_12_digits"


@pytest.mark.parametrize("number", ["000195012345", "003195012345", "099195012345", "999195012345"])
def test_warns_about_a_code_outside_the_63_provinces(number):
    # A birth registered abroad carries a country code: the number is accepted, flagged.
    parsed = parse_citizen_id(number)
    assert parsed.id_province_code == number[:3]
    assert parsed.province_name is None
    assert parsed.province_code_2025 is None
    assert [w.code for w in parsed.warnings] == ["citizen_id.unknown_province"]
    assert number[:3] in parsed.warnings[0].message("vi")
    assert [w.code for w in check_consistency(parsed)] == ["citizen_id.unknown_province"]


def test_rejects_a_birth_year_that_has_not_come():
    with clock.frozen_at(NOON_2026):
        assert parse_citizen_id("001226000001").birth_year == 2026
        assert _code_of("001227000001") == "citizen_id.birth_year_in_future"
        assert _code_of("001499000001") == "citizen_id.birth_year_in_future"  # year 2199


def test_the_province_table_has_63_codes_mapped_to_34_provinces():
    provinces = former_provinces()
    assert len(provinces) == 63
    assert all(len(code) == 3 and code.isdigit() for code in provinces)
    assert len({p.province_code_2025 for p in provinces.values()}) == 34
    # Each 2025 province kept the code of one of its former provinces.
    assert all(f"0{p.province_code_2025}" in provinces for p in provinces.values())


def test_consistency_is_silent_when_everything_agrees():
    assert check_consistency("001195012345", birth_date=dt.date(1995, 7, 12), sex="female") == []
    assert check_consistency(parse_citizen_id("001195012345")) == []


def test_consistency_warns_about_year_and_sex_without_raising():
    warnings = check_consistency("001195012345", birth_date=dt.date(1996, 7, 12), sex=Sex.MALE)
    assert [w.code for w in warnings] == [
        "citizen_id.birth_year_mismatch",
        "citizen_id.sex_mismatch",
    ]
    assert "1995" in warnings[0].message("vi")
    assert "12/07/1996" in warnings[0].message("vi")
    assert "1996-07-12" in warnings[0].message("en")
    assert warnings[1].message("en").startswith("The ID is for a female")
    assert "nữ" in warnings[1].message()


def test_consistency_of_a_non_id_string_is_an_input_error():
    with pytest.raises(InvalidInput):
        check_consistency("12345", sex=Sex.MALE)


def test_century_digit_helper_matches_the_table():
    assert century_sex_digit(birth_year=1999, sex=Sex.MALE) == 0
    assert century_sex_digit(birth_year=1900, sex=Sex.FEMALE) == 1
    assert century_sex_digit(birth_year=2025, sex=Sex.FEMALE) == 3
    assert century_sex_digit(birth_year=2399, sex=Sex.FEMALE) == 9
    with pytest.raises(ValueError, match="1900"):
        century_sex_digit(birth_year=1899, sex=Sex.MALE)


def _value_or_invalid_input(text: str) -> None:
    try:
        parsed = parse_citizen_id(text)
    except InvalidInput as error:
        code = error.code
    else:
        code = "citizen_id.ok"
        assert parsed.number == text.strip()
    assert code.startswith("citizen_id.")


@PROPERTY
@given(st.text())
def test_any_text_gives_a_value_or_invalid_input(text):
    _value_or_invalid_input(text)


@PROPERTY
@given(st.binary(max_size=40), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_decoded_bytes_give_a_value_or_invalid_input(data, encoding):
    _value_or_invalid_input(data.decode(encoding, errors="replace"))


# Nearly valid: the right length and mostly digits, with the odd Unicode digit, letter or space.
_NEAR_DIGITS = st.sampled_from([*"0123456789", "٣", "５", "O", " ", "\u00a0", "-"])


@PROPERTY
@given(st.lists(_NEAR_DIGITS, min_size=10, max_size=14).map("".join))
def test_near_valid_strings_give_a_value_or_invalid_input(text):
    _value_or_invalid_input(text)


@PROPERTY
@given(st.data(), st.sampled_from(Sex), st.integers(0, 999_999))
def test_generated_ids_parse_back_to_what_they_were_built_from(data, sex, serial):
    with clock.frozen_at(NOON_2026):
        province = data.draw(st.sampled_from(sorted(former_provinces())))
        year = data.draw(st.integers(1900, 2026))
        digit = century_sex_digit(birth_year=year, sex=sex)
        number = f"{province}{digit}{year % 100:02d}{serial:06d}"
        parsed = parse_citizen_id(number)
    assert (parsed.id_province_code, parsed.sex, parsed.birth_year) == (province, sex, year)
    assert check_consistency(parsed, birth_date=dt.date(year, 1, 1), sex=sex) == []
