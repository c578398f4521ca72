from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhealth.core.errors import InvalidInput
from cityhealth.core.identifiers import (
    NOMINAL_BENEFIT_PERCENT,
    BhytForm,
    bhyt_groups,
    parse_bhyt_code,
)

PROPERTY = settings(max_examples=300, deadline=None)

# The 43 codes of the reference's regex, in its order, and the level table of §3.2.
REFERENCE_GROUPS = [
    "DN",
    "HX",
    "CH",
    "NN",
    "TK",
    "HC",
    "XK",
    "HT",
    "TB",
    "NO",
    "CT",
    "XB",
    "TN",
    "CS",
    "QN",
    "CA",
    "CY",
    "XN",
    "MS",
    "CC",
    "CK",
    "CB",
    "KC",
    "HD",
    "TE",
    "BT",
    "HN",
    "DT",
    "DK",
    "XD",
    "TS",
    "TC",
    "TQ",
    "TA",
    "TY",
    "HG",
    "LS",
    "PV",
    "CN",
    "HS",
    "SV",
    "GB",
    "GD",
]
REFERENCE_LEVELS = {
    1: "CC TE",
    2: "CK CB KC HN DT DK XD BT TS",
    3: "HT TC CN",
    4: "DN HX CH NN TK HC XK TB NO CT XB TN CS XN MS HD TQ TA TY HG LS HS SV GB GD PV",
    5: "QN CA CY",
}
CONFIRMED_MEANINGS = {"DN", "HC", "HT", "TE", "HN", "CN", "HS", "SV", "GD", "QN", "CA", "CY"}


def _error(text: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_bhyt_code(text)  # type: ignore[arg-type]
    assert info.value.field == "bhyt_code"
    assert info.value.message_vi
    assert info.value.message_en
    return info.value


def test_reads_a_full_card_code():
    card = parse_bhyt_code("DN4010123456789")
    assert card.form is BhytForm.FULL_CODE
    assert card.code == "DN4010123456789"
    assert card.group is not None
    assert card.group.code == "DN"
    assert card.group.meaning_en == "Employee of an enterprise"
    assert (card.card_level, card.group_level) == (4, 4)
    assert card.province_code == "01"
    assert card.social_insurance_number == "0123456789"
    assert card.nominal_benefit_percent == 80
    assert card.warnings == ()


def test_reads_the_gateway_spec_examples():
    full = parse_bhyt_code("GD4757523268412")
    assert (full.form, full.province_code, full.social_insurance_number) == (
        BhytForm.FULL_CODE,
        "75",
        "7523268412",
    )
    bare = parse_bhyt_code("7912058865")
    assert bare.form is BhytForm.BHXH_NUMBER
    assert bare.social_insurance_number == bare.code == "7912058865"
    assert (bare.group, bare.card_level, bare.group_level, bare.province_code) == (
        None,
        None,
        None,
        None,
    )
    assert bare.nominal_benefit_percent is None


def test_normalises_case_and_surrounding_space():
    assert parse_bhyt_code("  te1010123456789\n").code == "TE1010123456789"


def test_the_card_level_counts_and_a_different_group_level_is_a_warning():
    card = parse_bhyt_code("HT1010123456789")  # pensioners are level 3 by their group
    assert (card.card_level, card.group_level) == (1, 3)
    assert card.nominal_benefit_percent == 100
    assert [w.code for w in card.warnings] == ["bhyt.level_mismatch"]
    assert "HT" in card.warnings[0].message("vi")
    assert "level 1" in card.warnings[0].message("en")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "bhyt.bad_format"),
        ("DN401012345678", "bhyt.bad_format"),
        ("DN40101234567890", "bhyt.bad_format"),
        ("79120588", "bhyt.bad_format"),
        ("７９１２０５８８６５", "bhyt.bad_format"),  # full-width digits
        ("DN4010123456789".replace("N", "Ν"), "bhyt.bad_format"),  # Greek capital nu
        (None, "bhyt.bad_format"),
        ("XX4010123456789", "bhyt.unknown_group"),
        ("4D4010123456789", "bhyt.unknown_group"),
        ("DN0010123456789", "bhyt.bad_level"),
        ("DN6010123456789", "bhyt.bad_level"),
        ("DNA010123456789", "bhyt.bad_level"),
        ("DN4A10123456789", "bhyt.bad_province"),
        ("DN4 10123456789", "bhyt.bad_province"),
        ("DN401012345678X", "bhyt.bad_number"),
        ("DN401-123456789", "bhyt.bad_number"),
        ("79120588X5", "bhyt.bad_number"),
        ("7912 58865", "bhyt.bad_number"),
    ],
)
def test_rejects_malformed_codes_with_a_stable_code(text, code):
    assert _error(text).code == code


def test_unknown_group_names_the_group():
    error = _error("ZZ4010123456789")
    assert error.params == {"group": "ZZ"}
    assert "ZZ" in error.message_vi


def test_ships_the_43_groups_of_the_reference():
    groups = bhyt_groups()
    assert list(groups) == REFERENCE_GROUPS
    for level, codes in REFERENCE_LEVELS.items():
        for code in codes.split():
            assert groups[code].level == level, code
    for group in groups.values():
        assert group.meaning_vi
        assert group.meaning_en
        assert group.verified is (group.code in CONFIRMED_MEANINGS), group.code
    assert not groups["PV"].verified  # its level is a guess


def test_nominal_percentages_per_level():
    assert dict(NOMINAL_BENEFIT_PERCENT) == {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
    with pytest.raises(TypeError):
        NOMINAL_BENEFIT_PERCENT[4] = 100  # type: ignore[index]


def _value_or_invalid_input(text: str) -> None:
    try:
        card = parse_bhyt_code(text)
    except InvalidInput as error:
        code = error.code
    else:
        code = "bhyt.ok"
        assert len(card.code) in (10, 15)
        assert card.code == text.strip().upper()
    assert code.startswith("bhyt.")


@PROPERTY
@given(st.text())
def test_any_text_gives_a_value_or_invalid_input(text):
    _value_or_invalid_input(text)


@PROPERTY
@given(st.binary(max_size=40), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_decoded_bytes_give_a_value_or_invalid_input(data, encoding):
    _value_or_invalid_input(data.decode(encoding, errors="replace"))


_NEAR = st.sampled_from([*"0123456789", "D", "N", "T", "E", "x", "ſ", "٣", " ", "-"])


@PROPERTY
@given(
    st.sampled_from([*REFERENCE_GROUPS, "ZZ", "dn", "Dſ", ""]),
    st.lists(_NEAR, min_size=8, max_size=14).map("".join),
)
def test_near_valid_codes_give_a_value_or_invalid_input(prefix, rest):
    _value_or_invalid_input(prefix + rest)


@PROPERTY
@given(
    st.sampled_from(REFERENCE_GROUPS),
    st.integers(1, 5),
    st.integers(0, 99),
    st.from_regex(r"[0-9]{10}", fullmatch=True),
)
def test_generated_codes_read_back(group, level, province, number):
    card = parse_bhyt_code(f"{group}{level}{province:02d}{number}")
    assert card.group is not None
    assert (card.group.code, card.card_level, card.province_code) == (
        group,
        level,
        f"{province:02d}",
    )
    assert card.social_insurance_number == number
    assert bool(card.warnings) is (level != bhyt_groups()[group].level)
