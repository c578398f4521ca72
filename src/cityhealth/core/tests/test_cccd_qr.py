from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityhealth.core import clock
from cityhealth.core.errors import InvalidInput
from cityhealth.core.identifiers import OldIdKind, Sex, parse_cccd_qr

ADDRESS = "Số 8 ngõ 15 phố Ví Dụ, Phường Ba Đình, Hà Nội"
EXAMPLE = f"001195012345||TRẦN THỊ MINH ANH|12071995|Nữ|{ADDRESS}|03052022"
NOW = dt.datetime(2026, 6, 1, 5, 0, tzinfo=dt.UTC)
PROPERTY = settings(max_examples=300, deadline=None)


@pytest.fixture(autouse=True)
def _fixed_today():
    with clock.frozen_at(NOW):
        yield


def _qr(**changes: str) -> str:
    fields = {
        "id": "001195012345",
        "old": "",
        "name": "TRẦN THỊ MINH ANH",
        "dob": "12071995",
        "sex": "Nữ",
        "address": ADDRESS,
        "issued": "03052022",
    }
    fields.update(changes)
    return "|".join(fields.values())


def _error(raw: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_cccd_qr(raw)
    assert info.value.message_vi
    assert info.value.message_en
    return info.value


def test_reads_the_worked_example_of_the_reference():
    card = parse_cccd_qr(EXAMPLE)
    assert card.citizen_id.number == "001195012345"
    assert card.citizen_id.id_province_code == "001"
    assert card.citizen_id.province_name == "Hà Nội"
    assert (card.old_id, card.old_id_kind) == (None, OldIdKind.NONE)
    assert card.full_name == "TRẦN THỊ MINH ANH"
    assert card.date_of_birth == dt.date(1995, 7, 12)
    assert card.sex is Sex.FEMALE
    assert card.address == ADDRESS
    assert card.issue_date == dt.date(2022, 5, 3)
    assert card.extra_fields == ()
    assert card.warnings == ()
    assert card.id_consistent


@pytest.mark.parametrize("ending", ["\r\n", "\n", "\r", "\r\n\r\n"])
def test_ignores_the_line_ending_a_scanner_adds(ending):
    assert parse_cccd_qr(EXAMPLE + ending) == parse_cccd_qr(EXAMPLE)


def test_keeps_the_fields_of_newer_cards_raw():
    decomposed = unicodedata.normalize("NFD", "NGUYỄN VĂN BA")
    card = parse_cccd_qr(f"{EXAMPLE}|{decomposed}|  x  ||001090000001\r\n")
    assert card.extra_fields == (decomposed, "  x  ", "", "001090000001")
    assert card.full_name == "TRẦN THỊ MINH ANH"


@pytest.mark.parametrize(
    ("old", "kind"),
    [("", OldIdKind.NONE), ("012345678", OldIdKind.CMND), ("001095000777", OldIdKind.CANCELLED_ID)],
)
def test_records_which_kind_of_old_number_is_in_field_1(old, kind):
    card = parse_cccd_qr(_qr(old=old))
    assert card.old_id_kind is kind
    assert card.old_id == (old or None)


@pytest.mark.parametrize("old", ["12345678", "1234567890", "0123456789012", "01234567X", " "])
def test_rejects_any_other_old_number(old):
    error = _error(_qr(old=old))
    assert (error.code, error.field) == ("cccd_qr.bad_old_id", "old_id")


@pytest.mark.parametrize(
    ("written", "sex"),
    [
        ("Nữ", Sex.FEMALE),
        (unicodedata.normalize("NFD", "Nữ"), Sex.FEMALE),
        ("NỮ", Sex.FEMALE),
        (unicodedata.normalize("NFD", "NỮ"), Sex.FEMALE),
        ("nữ", Sex.FEMALE),
        ("Nam", Sex.MALE),
        ("NAM", Sex.MALE),
        ("nam", Sex.MALE),
    ],
)
def test_reads_sex_in_any_case_and_normal_form(written, sex):
    expected_id = "001195012345" if sex is Sex.FEMALE else "001095012345"
    card = parse_cccd_qr(_qr(sex=written, id=expected_id))
    assert card.sex is sex
    assert card.id_consistent


@pytest.mark.parametrize("written", ["F", "M", "Nu", "Nư", "Female", "", "1"])
def test_rejects_other_ways_of_writing_sex(written):
    error = _error(_qr(sex=written))
    assert (error.code, error.field) == ("cccd_qr.bad_sex", "sex")


def test_normalises_the_name():
    decomposed = unicodedata.normalize("NFD", "  TRẦN   THỊ\tMINH ANH ")
    assert parse_cccd_qr(_qr(name=decomposed)).full_name == "TRẦN THỊ MINH ANH"


@pytest.mark.parametrize(
    ("name", "code"), [("", "empty_name"), ("   ", "empty_name"), ("TRẦN\x00THỊ", "bad_name")]
)
def test_rejects_an_empty_or_garbled_name(name, code):
    error = _error(_qr(name=name))
    assert (error.code, error.field) == (f"cccd_qr.{code}", "full_name")


@pytest.mark.parametrize(
    "dob",
    [
        "31022000",
        "29021900",
        "00011990",
        "01131990",
        "32011990",
        "12/07/1995",
        "1995-07-12",
        "1207199",
        "120719950",
        "12071895",
        "",
        "١٢٠٧١٩٩٥",
    ],
)
def test_rejects_impossible_or_misformatted_birth_dates(dob):
    error = _error(_qr(dob=dob))
    assert (error.code, error.field) == ("cccd_qr.bad_date", "date_of_birth")


def test_accepts_a_leap_day():
    assert parse_cccd_qr(_qr(dob="29022000", id="001300000001")).date_of_birth == dt.date(
        2000, 2, 29
    )


def test_rejects_an_impossible_issue_date():
    error = _error(_qr(issued="30022022"))
    assert (error.code, error.field) == ("cccd_qr.bad_date", "issue_date")
    assert "issue date" in error.message_en


def test_rejects_dates_in_the_future_and_issue_before_birth():
    assert _error(_qr(dob="02062026", issued="02062026")).code == "cccd_qr.birth_date_in_future"
    assert _error(_qr(issued="02062026")).code == "cccd_qr.issue_date_in_future"
    assert _error(_qr(issued="11071995")).code == "cccd_qr.issued_before_birth"
    assert parse_cccd_qr(_qr(issued="01062026")).issue_date == dt.date(2026, 6, 1)


@pytest.mark.parametrize("count", [1, 2, 5, 6])
def test_rejects_fewer_than_seven_fields(count):
    error = _error("|".join(EXAMPLE.split("|")[:count]))
    assert error.code == "cccd_qr.too_few_fields"
    assert error.params == {"count": count}


def test_does_not_guess_the_shifted_six_field_layout():
    # The layout some readers assume: no CMND field, everything one place to the left.
    shifted = f"001195012345|TRẦN THỊ MINH ANH|12071995|Nữ|{ADDRESS}|03052022"
    assert _error(shifted).code == "cccd_qr.too_few_fields"
    # With an extra field it has seven, and the name lands where the old ID belongs.
    assert _error(shifted + "|x").code == "cccd_qr.bad_old_id"


@pytest.mark.parametrize(
    ("id_field", "reason"),
    [
        ("00119501234", "citizen_id.not_12_digits"),
        (" 001195012345", "citizen_id.not_12_digits"),
        ("", "citizen_id.not_12_digits"),
    ],
)
def test_rejects_a_bad_id_number_and_says_why(id_field, reason):
    error = _error(_qr(id=id_field))
    assert (error.code, error.field) == ("cccd_qr.bad_id_number", "citizen_id")
    assert error.params == {"reason": reason}


@pytest.mark.parametrize("raw", ["", "   ", "\r\n"])
def test_rejects_empty_input(raw):
    assert _error(raw).code == "cccd_qr.empty"


def test_rejects_a_huge_input():
    assert _error(EXAMPLE + "|" + "x" * 5000).code == "cccd_qr.too_long"


def test_warns_when_the_id_digits_disagree_with_the_card():
    card = parse_cccd_qr(_qr(dob="12071996", sex="Nam"))
    assert [w.code for w in card.warnings] == [
        "citizen_id.birth_year_mismatch",
        "citizen_id.sex_mismatch",
    ]
    assert not card.id_consistent


def _value_or_invalid_input(raw: str) -> None:
    try:
        card = parse_cccd_qr(raw)
    except InvalidInput as error:
        code = error.code
    else:
        code = "cccd_qr.ok"
        assert len(card.extra_fields) == raw.rstrip("\r\n").count("|") - 6
    assert code.startswith("cccd_qr.")


@PROPERTY
@given(st.text())
def test_any_text_gives_a_value_or_invalid_input(raw):
    _value_or_invalid_input(raw)


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_decoded_bytes_give_a_value_or_invalid_input(data, encoding):
    _value_or_invalid_input(data.decode(encoding, errors="replace"))


# Each field drawn from good values, near misses and noise, so most strings get deep into the
# parser before something is wrong.
_FIELD_VALUES = st.one_of(
    st.sampled_from(
        [
            "001195012345",
            "079090000001",
            "",
            "012345678",
            "TRẦN THỊ MINH ANH",
            "12071995",
            "29022001",
            "31129999",
            "01010001",
            "Nữ",
            unicodedata.normalize("NFD", "Nữ"),
            "Nam",
            ADDRESS,
            "03052022",
            "\r\n",
            "٣",
            "\x00",
        ]
    ),
    st.text(max_size=15),
    st.from_regex(r"[0-9]{1,13}", fullmatch=True),
)


@PROPERTY
@given(st.lists(_FIELD_VALUES, min_size=5, max_size=10))
def test_near_valid_strings_give_a_value_or_invalid_input(fields):
    _value_or_invalid_input("|".join(fields))


@PROPERTY
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 6, 1)),
    st.sampled_from([(Sex.MALE, "Nam"), (Sex.FEMALE, "Nữ")]),
    st.lists(st.text(alphabet=st.characters(exclude_characters="|\r\n")), max_size=3),
)
def test_generated_cards_read_back(dob, sex_and_word, extras):
    sex, word = sex_and_word
    digit = (dob.year - 1900) // 100 * 2 + (sex is Sex.FEMALE)
    number = f"001{digit}{dob.year % 100:02d}000042"
    raw = "|".join(
        [number, "", "NGUYỄN VĂN A", f"{dob:%d%m%Y}", word, ADDRESS, f"{dob:%d%m%Y}", *extras]
    )
    card = parse_cccd_qr(raw)
    assert (card.date_of_birth, card.issue_date, card.sex) == (dob, dob, sex)
    assert card.extra_fields == tuple(extras)
    assert card.id_consistent


def test_an_id_registered_abroad_is_read_with_a_warning():
    card = parse_cccd_qr(_qr(id="003195012345"))
    assert card.citizen_id.province_name is None
    assert "citizen_id.unknown_province" in [w.code for w in card.warnings]
    assert not card.id_consistent
