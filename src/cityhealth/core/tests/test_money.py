from __future__ import annotations

import contextlib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhealth.core.errors import InvalidInput
from cityhealth.core.money import MAX_PARSED, Vnd, format_vnd, parse_vnd

PROPERTY = settings(max_examples=300, deadline=None)


def test_arithmetic_stays_in_whole_dong():
    assert Vnd(1_000) + Vnd(250) == Vnd(1_250)
    assert Vnd(1_000) - Vnd(1_250) == Vnd(-250)
    assert Vnd(1_250) * 3 == 3 * Vnd(1_250) == Vnd(3_750)
    assert -Vnd(5) == Vnd(-5)
    assert Vnd.total([Vnd(1), Vnd(2), Vnd(3)]) == Vnd(6)
    assert Vnd.total([]) == Vnd(0)
    assert Vnd(1) < Vnd(2)


@pytest.mark.parametrize("bad", [True, False, 1.0, 0.5, "100", Decimal(100), None])
def test_refuses_anything_but_an_int_amount(bad):
    with pytest.raises(TypeError):
        Vnd(bad)


@pytest.mark.parametrize("bad", [True, 2.0, Decimal(2), Vnd(2)])
def test_multiplies_by_int_only(bad):
    with pytest.raises(TypeError):
        Vnd(100) * bad


def test_does_not_mix_with_plain_numbers():
    with pytest.raises(TypeError):
        Vnd(1) + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        Vnd(1) - 1.0  # type: ignore[operator]
    plain_one: object = 1
    assert Vnd(1) != plain_one


def test_is_immutable_and_hashable():
    amount = Vnd(1)
    with pytest.raises(AttributeError):
        amount.amount = 2  # type: ignore[misc]
    assert len({Vnd(1), Vnd(1), Vnd(2)}) == 2


@pytest.mark.parametrize(
    ("amount", "p", "expected"),
    [
        (1_000_000, 80, 800_000),
        (1_000_000, 95, 950_000),
        (5, 50, 3),  # 2.5 → 3: half up
        (3, 50, 2),  # 1.5 → 2
        (1, 49, 0),  # 0.49 → 0
        (1, 50, 1),  # 0.5 → 1
        (-5, 50, -3),  # ties go away from zero on both sides
        (-1, 49, 0),
        (1_000, Decimal("2.5"), 25),
        (999, Decimal("2.5"), 25),  # 24.975 → 25
        (10, Fraction(1, 3), 0),
        (0, 80, 0),
        (1_234, 0, 0),
        (1_234, 100, 1_234),
    ],
)
def test_percent_rounds_half_up_to_whole_dong(amount, p, expected):
    assert Vnd(amount).percent(p) == Vnd(expected)


@pytest.mark.parametrize("bad", [80.0, True, "80"])
def test_percent_takes_no_floats(bad):
    with pytest.raises(TypeError):
        Vnd(100).percent(bad)


def test_percent_refuses_nan():
    with pytest.raises(ValueError, match="finite"):
        Vnd(100).percent(Decimal("NaN"))


@pytest.mark.parametrize(
    ("amount", "ratios", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (100, [1], [100]),
        (5, [0, 1, 1], [0, 3, 2]),
        (1_000_000, [80, 20], [800_000, 200_000]),
        (10, [3, 3, 4], [3, 3, 4]),
        (2, [1, 1, 1], [1, 1, 0]),
        (0, [1, 2], [0, 0]),
    ],
)
def test_allocate_never_loses_a_dong(amount, ratios, parts):
    assert Vnd(amount).allocate(ratios) == tuple(Vnd(part) for part in parts)


@pytest.mark.parametrize(
    ("ratios", "error"),
    [
        ([], ValueError),
        ([0, 0], ValueError),
        ([1, -1, 1], ValueError),
        ([0.5, 0.5], TypeError),
        ([True, 1], TypeError),
    ],
)
def test_allocate_refuses_bad_ratios(ratios, error):
    with pytest.raises(error):
        Vnd(100).allocate(ratios)


@pytest.mark.parametrize(
    "text",
    [
        "1.250.000 ₫",
        "1.250.000₫",
        "1250000",
        "1,250,000 VND",
        "1.250.000 đ",
        "1.250.000đ",
        "1.250.000 VNĐ",
        "1.250.000 vnđ",
        "1.250.000 đồng",
        "₫ 1.250.000",
        "VND 1,250,000",
        "1 250 000 ₫",
        "1\u00a0250\u00a0000\u00a0₫",
        "  1250000  ",
    ],
)
def test_parses_the_usual_ways_of_writing_an_amount(text):
    assert parse_vnd(text) == Vnd(1_250_000)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "money.empty"),
        ("   ", "money.empty"),
        (None, "money.empty"),
        ("-1.000 ₫", "money.negative"),
        ("-1000", "money.negative"),
        ("1.25", "money.not_an_amount"),  # a decimal, or a typo? Refused either way.
        ("1,2345", "money.not_an_amount"),
        ("12.34.567", "money.not_an_amount"),
        ("1.000,50", "money.not_an_amount"),
        ("1,250.000", "money.not_an_amount"),
        ("1.000.000,", "money.not_an_amount"),
        ("abc", "money.not_an_amount"),
        ("₫", "money.not_an_amount"),
        ("1e6", "money.not_an_amount"),
        ("0x10", "money.not_an_amount"),
        ("+1000", "money.not_an_amount"),
        ("１２３", "money.not_an_amount"),  # full-width digits
        ("١٢٣", "money.not_an_amount"),  # Arabic-Indic digits
        ("₫1.000₫", "money.not_an_amount"),
        ("1.000 USD", "money.not_an_amount"),
        ("1" * 5000, "money.not_an_amount"),  # must not reach int()'s digit limit
        ("10.000.000.000.001", "money.too_large"),
    ],
)
def test_refuses_junk_with_a_stable_code(text, code):
    with pytest.raises(InvalidInput) as info:
        parse_vnd(text)
    assert info.value.code == code
    assert info.value.field == "amount"
    assert info.value.message_vi
    assert info.value.message_en


def test_the_cap_itself_is_allowed_and_the_field_is_named_by_the_caller():
    assert parse_vnd("10.000.000.000.000") == Vnd(MAX_PARSED)
    with pytest.raises(InvalidInput) as info:
        parse_vnd("abc", field="deposit")
    assert info.value.field == "deposit"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0 ₫"),
        (999, "999 ₫"),
        (1_000, "1.000 ₫"),
        (1_250_000, "1.250.000 ₫"),
        (-1_250_000, "-1.250.000 ₫"),
    ],
)
def test_formats_the_vietnamese_way(amount, text):
    assert format_vnd(Vnd(amount)) == text
    assert str(Vnd(amount)) == text


@PROPERTY
@given(st.text())
def test_any_text_gives_an_amount_or_invalid_input(text):
    try:
        amount = parse_vnd(text)
    except InvalidInput as error:
        code = error.code
    else:
        code = "money.ok"
        assert 0 <= amount.amount <= MAX_PARSED
    assert code.startswith("money.")


@PROPERTY
@given(st.binary(max_size=40), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_decoded_bytes_give_an_amount_or_invalid_input(data, encoding):
    with contextlib.suppress(InvalidInput):
        parse_vnd(data.decode(encoding, errors="replace"))


@PROPERTY
@given(st.lists(st.sampled_from([*"0123456789.,- ", "₫", "đ", "VND", "\u00a0"]), max_size=20))
def test_near_valid_amounts_give_an_amount_or_invalid_input(pieces):
    with contextlib.suppress(InvalidInput):
        parse_vnd("".join(pieces))


@PROPERTY
@given(st.integers(0, MAX_PARSED))
def test_parse_reads_back_what_format_wrote(amount):
    assert parse_vnd(format_vnd(Vnd(amount))) == Vnd(amount)


@PROPERTY
@given(
    st.integers(-(10**15), 10**15),
    st.lists(st.integers(0, 1_000), min_size=1, max_size=8).filter(lambda r: sum(r) > 0),
)
def test_allocate_sums_back_and_stays_within_a_dong_of_the_exact_share(amount, ratios):
    parts = Vnd(amount).allocate(ratios)
    assert Vnd.total(parts) == Vnd(amount)
    for part, ratio in zip(parts, ratios, strict=True):
        assert abs(Fraction(part.amount) - Fraction(amount * ratio, sum(ratios))) < 1


@PROPERTY
@given(st.integers(-(10**15), 10**15), st.integers(0, 100))
def test_percent_agrees_with_decimal_half_up(amount, p):
    expected = (Decimal(amount) * p / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert Vnd(amount).percent(p) == Vnd(int(expected))
